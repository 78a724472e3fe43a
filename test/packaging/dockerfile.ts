/**
 * A small Dockerfile reader for the image layout test: the stages, and in each its WORKDIR, ENV,
 * USER, EXPOSE, HEALTHCHECK, ENTRYPOINT/CMD and, in order, its COPY and RUN steps. It understands
 * only the COPY forms labwatch's Dockerfile uses (flags --from/--chown/--chmod/--link, plain paths)
 * and throws on any other (ADD, the JSON form, wildcards, variables, heredocs), so the test fails
 * rather than lay out an image it cannot read.
 */
import { posix } from 'node:path';

export interface Copy {
  /** the stage named by --from, or undefined for the build context */
  from?: string;
  sources: string[];
  dest: string;
  /** the line in the Dockerfile, for messages */
  line: number;
}

export type Step = { kind: 'copy'; copy: Copy } | { kind: 'run'; command: string; line: number };

export interface Stage {
  name?: string;
  base: string;
  /** the WORKDIR in force at the end of the stage ('/' when none) */
  workdir: string;
  /** COPY and RUN in order; each COPY's dest is already resolved against the WORKDIR of its line */
  steps: Step[];
  env: Record<string, string>;
  user?: string;
  expose: string[];
  /** HEALTHCHECK's command (exec form as argv; shell form as ['/bin/sh', '-c', text]) */
  healthcheck?: string[];
  entrypoint?: string[];
  cmd?: string[];
}

export class DockerfileError extends Error {
  constructor(line: number, what: string) {
    super(`Dockerfile line ${line}: ${what}`);
    this.name = 'DockerfileError';
  }
}

/** Instructions with their first line number: continuations joined, comments and blank lines dropped. */
function instructions(text: string): { line: number; op: string; args: string }[] {
  const out: { line: number; op: string; args: string }[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    // Docker drops comment lines even inside a continuation.
    if (/^\s*#/.test(line) || (buf === '' && line.trim() === '')) return;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf);
    if (m) out.push({ line: start, op: m[1]!.toUpperCase(), args: m[2]!.trim() });
    buf = '';
  });
  return out;
}

/** The exec (JSON) form as argv, else the shell form run by /bin/sh -c. */
function command(args: string, line: number): string[] {
  if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
  try {
    const argv = JSON.parse(args) as unknown;
    if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return argv;
  } catch {
    // reported below
  }
  throw new DockerfileError(line, `not a JSON array of strings: ${args}`);
}

/** `ENV K=V K2="v 2"` (and the old `ENV K V`). */
function envPairs(args: string, line: number): [string, string][] {
  if (!args.includes('=')) {
    const [k, ...v] = args.split(/\s+/);
    return [[k!, v.join(' ')]];
  }
  const pairs: [string, string][] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|\S*)\s*/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < args.length && (m = re.exec(args))) pairs.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!]);
  if (re.lastIndex < args.length) throw new DockerfileError(line, `ENV form not understood: ${args}`);
  return pairs;
}

function parseCopy(args: string, line: number, workdir: string): Copy {
  if (args.startsWith('[')) throw new DockerfileError(line, 'COPY in the JSON form is not understood by this test; use COPY <src>... <dest>');
  if (args.includes('<<')) throw new DockerfileError(line, 'COPY with a heredoc is not understood by this test');
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const [name, value] = flag.split('=', 2);
    if (name === '--from' && value) from = value;
    else if ((name === '--chown' || name === '--chmod') && value) continue;
    else if (name === '--link' && (value === undefined || value === 'true')) continue;
    else throw new DockerfileError(line, `COPY flag ${flag} is not understood by this test (only --from, --chown, --chmod, --link)`);
  }
  if (words.length < 2) throw new DockerfileError(line, `COPY needs a source and a destination: COPY ${args}`);
  for (const w of words) if (/[*?[$]/.test(w)) throw new DockerfileError(line, `COPY path "${w}" has a wildcard or variable, which this test does not expand`);
  const dest = words.pop()!;
  if (words.length > 1 && !dest.endsWith('/')) throw new DockerfileError(line, `COPY of several sources needs a destination ending in "/": ${dest}`);
  // A trailing "/" matters (a folder to copy into), so it is kept through the resolution.
  const resolved = posix.resolve(workdir, dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
  return { ...(from ? { from } : {}), sources: words, dest: resolved.replace(/\/+$/, '/'), line };
}

/** The stages of a Dockerfile, in order; the last is the image that runs. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const { line, op, args } of instructions(text)) {
    if (op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+as\s+(\S+))?$/i.exec(args);
      if (!m) throw new DockerfileError(line, `FROM form not understood: ${args}`);
      stages.push({ base: m[1]!, ...(m[2] ? { name: m[2] } : {}), workdir: '/', steps: [], env: {}, expose: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (op === 'ARG') continue;
      throw new DockerfileError(line, `${op} before the first FROM`);
    }
    switch (op) {
      case 'WORKDIR':
        if (args.includes('$')) throw new DockerfileError(line, `WORKDIR with a variable is not understood by this test: ${args}`);
        stage.workdir = posix.resolve(stage.workdir, args);
        break;
      case 'COPY':
        stage.steps.push({ kind: 'copy', copy: parseCopy(args, line, stage.workdir) });
        break;
      case 'ADD':
        throw new DockerfileError(line, 'ADD is not understood by this test; use COPY');
      case 'RUN':
        stage.steps.push({ kind: 'run', command: args, line });
        break;
      case 'ENV':
        for (const [k, v] of envPairs(args, line)) stage.env[k] = v;
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'EXPOSE':
        stage.expose.push(...args.split(/\s+/));
        break;
      case 'HEALTHCHECK': {
        if (/^NONE$/i.test(args)) break;
        const m = /^(?:--\S+\s+)*CMD\s+(.*)$/s.exec(args);
        if (!m) throw new DockerfileError(line, `HEALTHCHECK form not understood: ${args}`);
        stage.healthcheck = command(m[1]!.trim(), line);
        break;
      }
      case 'ENTRYPOINT':
        stage.entrypoint = command(args, line);
        break;
      case 'CMD':
        stage.cmd = command(args, line);
        break;
      default:
        // ARG, LABEL, VOLUME, SHELL, STOPSIGNAL…: nothing the file layout depends on.
        break;
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM: not a Dockerfile');
  return stages;
}

/**
 * Whether `.dockerignore` keeps `path` (relative to the context) out of the build context: the
 * last pattern matching the path or one of its parent folders decides ("!" re-includes). Patterns
 * are Docker's: `*` and `?` within a name, `**` across folders.
 */
export function ignoredByDockerignore(patterns: string, path: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*\*\/?/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '.*')}$`,
    );
  const parts = posix.normalize(path).replace(/^\.?\/+/, '').replace(/\/$/, '').split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const re = toRegex(posix.normalize(negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, ''));
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}
