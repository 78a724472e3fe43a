/**
 * Loads the YAML config, validates it against the schema and resolves secrets. Every problem is
 * reported at once, each naming the file, the line and the key, and saying what is expected.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { issueMessage, issuePath } from '../util/zod.ts';
import { configSchema, secretBlocks, type Config, type Secrets } from './schema.ts';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Each secret: the config key that names a file holding it, and the environment variable that
 * may carry it instead (the environment wins, as in containers). Derived from what the core,
 * the connectors and the channels declare (schema.ts `secretBlocks`).
 */
function secretSources(): { block: string; blockPath: string[]; key: string; path: string[]; env: string; each?: boolean; required?: string }[] {
  return secretBlocks().flatMap((b) =>
    b.secrets.map((s) => ({
      block: b.path.join('.'),
      blockPath: b.path,
      key: s.file,
      path: [...b.path, ...s.file.split('.')],
      env: s.env,
      ...(s.each ? { each: true } : {}),
      ...(s.required ? { required: s.required } : {}),
    })),
  );
}

/**
 * The hint for a secret written inline: `password: …` where the block declares `password_file`.
 * `path` is the block the unknown key sits in.
 */
function inlineSecretHint(path: PropertyKey[], key: string): string | undefined {
  const at = path.map(String).join('.');
  const found = secretSources().find((s) => s.path.slice(0, -1).join('.') === at && s.path.at(-1) === `${key}_file`);
  return found ? `${key}: secrets are not read inline, use ${key}_file (or the ${found.env} environment variable)` : undefined;
}

/** Orders "file:LINE: …" messages by line. */
function byLine(a: string, b: string): number {
  const line = (s: string) => Number(/^[^:]*:(\d+):/.exec(s)?.[1] ?? 0);
  return line(a) - line(b);
}

/**
 * A key left empty in YAML (`notify:` followed only by comments) means "use the defaults". Keys
 * are copied as own keys, so a `__proto__:` block is an unknown key, never the prototype of a
 * block (whose settings would then be read as if written); an alias inside its own anchor
 * (`a: &a [*a]`) is a loop, refused instead of recursed into.
 */
function dropNulls(v: unknown, inside: Set<object> = new Set()): unknown {
  if (v === null) return undefined;
  if (typeof v !== 'object') return v;
  if (inside.has(v)) throw new Error('a YAML alias refers to a block that contains it (like `a: &a [*a]`), which never ends; write the value out');
  inside.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => dropNulls(x, inside));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const y = dropNulls(x, inside);
      if (y !== undefined) Object.defineProperty(out, k, { value: y, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } finally {
    inside.delete(v);
  }
}

/**
 * YAML text → plain data, every failure a ConfigError: the yaml library throws (not reports) a
 * RangeError on some 20,000-deep lines (`: : : …`) and a ReferenceError on an alias bomb, and
 * takes minutes on a long run of lone carriage returns (quadratic), which are refused first.
 */
function yamlData(text: string, file: string): { doc: Document; lines: LineCounter; data: unknown } {
  const cr = /\r(?!\n)/.exec(text);
  if (cr) {
    const line = text.slice(0, cr.index).split('\n').length;
    throw new ConfigError(file, [`line ${line}: a carriage return not followed by a line feed (old Mac line endings, or a damaged file); save the file with LF or CRLF line endings`]);
  }
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(file, [`cannot be read as YAML (${(e as Error).message}): is a line nested thousands of levels deep?`]);
  }
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `line ${at.line}, column ${at.col}: invalid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  try {
    return { doc, lines, data: dropNulls(doc.toJS()) };
  } catch (e) {
    throw new ConfigError(file, [`cannot be read as YAML: ${(e as Error).message}`]);
  }
}

/** Load from a YAML file, or from defaults alone when `file` is undefined. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const source = file ?? 'defaults';
  let raw: unknown = {};
  let locate = (_path: PropertyKey[]): string => source;

  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
      throw new ConfigError(file, [`cannot read the config file: ${why}; pass an existing file with --config FILE`]);
    }
    const { doc, lines, data } = yamlData(text, file);
    raw = data ?? {};
    locate = (path) => {
      // Walk up to the deepest existing node, so a missing key points at its parent block.
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) return `${file}:${lines.linePos(node.range[0]).line}`;
      }
      return file;
    };
  }

  // The settings a container or a unit sets per node rather than per file.
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    const block = (name: string) => ({ ...((r[name] as Record<string, unknown> | undefined) ?? {}) });
    if (env.LABWATCH_REDIS_URL) r.redis = { ...block('redis'), url: env.LABWATCH_REDIS_URL };
    if (env.LABWATCH_LISTEN) r.http = { ...block('http'), listen: env.LABWATCH_LISTEN };
    if (env.LABWATCH_HOST) r.host = env.LABWATCH_HOST;
    if (env.LABWATCH_ROLE) r.role = env.LABWATCH_ROLE;
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((issue) => {
        const key = issuePath(issue.path) || '(top level)';
        let msg = issueMessage(issue);
        if (issue.code === 'unrecognized_keys') {
          const hints = issue.keys.map((k) => inlineSecretHint(issue.path, k) ?? k);
          msg = `unknown key${issue.keys.length > 1 ? 's' : ''} ${hints.join('; ')}`;
          return `${locate([...issue.path, issue.keys[0]!])}: ${key}: ${msg}`;
        }
        return `${locate(issue.path)}: ${key}: ${msg}`;
      }).sort(byLine),
    );
  }

  const cfg = parsed.data;
  const secrets: Secrets = {};
  const problems: string[] = [];
  const found = (s: { block: string; key: string }, value: string) => ((secrets.blocks ??= {})[s.block] ??= {})[s.key] = value;
  const valueAt = (path: PropertyKey[]) => path.reduce<unknown>((o, k) => (o && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<PropertyKey, unknown>)[k] : undefined), cfg);
  // A map of name → file (`each`) is one secret per entry, kept as "<key>.<name>", its env "<env>_<NAME>".
  const sources = secretSources().flatMap((s): { block: string; blockPath: string[]; key: string; path: string[]; env: string; required?: string }[] => {
    if (!s.each) return [s];
    const map = valueAt(s.path);
    return Object.keys(map && typeof map === 'object' ? map : {}).map((name) => ({
      block: s.block,
      blockPath: s.blockPath,
      key: `${s.key}.${name}`,
      path: [...s.path, name],
      env: `${s.env}_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
    }));
  });
  for (const s of sources) {
    const fromEnv = env[s.env];
    if (fromEnv) {
      found(s, fromEnv.trim());
      continue;
    }
    const fileKey = valueAt(s.path);
    if (typeof fileKey !== 'string') {
      if (s.required && valueAt(s.blockPath) !== undefined)
        problems.push(`${locate(s.blockPath)}: ${s.path.join('.')}: ${s.required} is needed: name the file holding it, or set ${s.env}`);
      continue;
    }
    try {
      const value = readFileSync(fileKey, 'utf8').trim();
      if (!value) problems.push(`${locate(s.path)}: ${s.path.join('.')}: ${fileKey} is empty; put the secret in it`);
      else found(s, value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(
        `${locate(s.path)}: ${s.path.join('.')}: cannot read ${fileKey} (${code ?? 'error'}); create it, make it readable by labwatch, or set ${s.env}`,
      );
    }
  }
  // External MCP servers: each env_files / header_files entry is a secret read from its file.
  cfg.mcp.servers.forEach((server, i) => {
    const read = (kind: 'env_files' | 'header_files', key: string, path: string): string | undefined => {
      const at = ['mcp', 'servers', i, kind, key];
      try {
        const value = readFileSync(path, 'utf8').trim();
        if (value) return value;
        problems.push(`${locate(at)}: mcp.servers[${i}].${kind}.${key}: ${path} is empty; put the secret in it`);
      } catch (err) {
        problems.push(`${locate(at)}: mcp.servers[${i}].${kind}.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); create it or make it readable by labwatch`);
      }
      return undefined;
    };
    const env: Record<string, string> = {};
    const headers: Record<string, string> = {};
    for (const [k, p] of Object.entries(server.env_files)) { const v = read('env_files', k, p); if (v !== undefined) env[k] = v; }
    for (const [k, p] of Object.entries(server.header_files)) { const v = read('header_files', k, p); if (v !== undefined) headers[k] = v; }
    if (Object.keys(env).length || Object.keys(headers).length) (secrets.mcp ??= {})[server.name] = { env, headers };
  });
  if (problems.length) throw new ConfigError(source, problems);
  const httpToken = secrets.blocks?.http?.token_file;
  const anthropicApiKey = secrets.blocks?.anthropic?.api_key_file;
  return { ...cfg, source, secrets: { ...secrets, ...(httpToken ? { httpToken } : {}), ...(anthropicApiKey ? { anthropicApiKey } : {}) } };
}
