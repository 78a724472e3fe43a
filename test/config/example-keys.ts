/**
 * What config/labwatch.example.yaml must show, read from the zod schema itself: every key path and
 * its default. And how the example is read: its commented-out settings uncommented (the convention
 * stated at the top of the example), then parsed as YAML.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';

/** A key the config file may hold: "notify.email.port", "mcp.servers[].name" (an item of a list). */
export interface SchemaKey {
  path: string;
  /** the default zod fills in when the key is left out (absent: none) */
  default?: unknown;
}

interface ZodLike {
  _zod: { def: { type: string; [k: string]: unknown } };
}

/** Every key path the schema accepts, with the default of those that have one, in schema order. */
export function schemaKeys(schema: unknown): SchemaKey[] {
  const out: SchemaKey[] = [];
  const seen = new Set<string>();
  const visit = (node: ZodLike, path: string): void => {
    const def = node._zod.def;
    switch (def.type) {
      case 'object':
        for (const [key, child] of Object.entries(def['shape'] as Record<string, ZodLike>)) {
          const p = path ? `${path}.${key}` : key;
          const d = defaultOf(child);
          if (!seen.has(p)) {
            seen.add(p);
            out.push({ path: p, ...(d ? { default: d.value } : {}) });
          }
          visit(child, p);
        }
        return;
      case 'default':
      case 'prefault':
      case 'optional':
      case 'nullable':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        return visit(def['innerType'] as ZodLike, path);
      case 'pipe':
        // the file holds what goes in; a transform's output is not the file's business
        return visit(def['in'] as ZodLike, path);
      case 'array':
        return visit(def['element'] as ZodLike, `${path}[]`);
      case 'record':
        return visit(def['valueType'] as ZodLike, `${path}.*`);
      case 'union':
        for (const option of def['options'] as ZodLike[]) visit(option, path);
        return;
      case 'intersection':
        visit(def['left'] as ZodLike, path);
        return visit(def['right'] as ZodLike, path);
      default:
        return;
    }
  };
  visit(schema as ZodLike, '');
  return out;
}

/** The default a key gets when left out: the nearest `.default()` around it (not `.prefault`, which feeds an input). */
function defaultOf(node: ZodLike): { value: unknown } | undefined {
  const def = node._zod.def;
  if (def.type === 'default') return { value: structuredClone(def['defaultValue']) };
  if (['optional', 'nullable', 'readonly', 'nonoptional'].includes(def.type)) return defaultOf(def['innerType'] as ZodLike);
  return undefined;
}

/** A commented-out setting: "# key: …" or "# - key: …" with the "#" at the key's indentation. */
const SETTING = /^(\s*)# (\s*(?:# )?(?:- )?[A-Za-z_][A-Za-z0-9_]*:(?:\s|$).*)$/;

/**
 * The example with every commented-out setting made live (nested ones too, "#   # key:"), so that
 * each key can be found at its path. Prose comments (anything else) stay comments.
 */
export function uncomment(example: string): string {
  return example
    .split('\n')
    .map((line) => {
      let l = line;
      for (let m = SETTING.exec(l); m; m = SETTING.exec(l)) l = `${m[1]}${m[2]}`;
      return l;
    })
    .join('\n');
}

/** Every value at a path in a parsed document ("[]" steps into each list item, "*" into each map value). */
export function valuesAt(doc: unknown, path: string): unknown[] {
  let here: unknown[] = [doc];
  for (const step of path.split('.')) {
    const [key, ...lists] = step.split('[]');
    const next: unknown[] = [];
    for (const v of here) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) continue;
      const o = v as Record<string, unknown>;
      const found = key === '*' ? Object.values(o) : key! in o ? [o[key!]] : [];
      next.push(...found);
    }
    here = next;
    for (let i = 0; i < lists.length; i++) here = here.flatMap((v) => (Array.isArray(v) ? v : []));
  }
  return here;
}

export interface ExampleProblems {
  /** schema keys the example does not show, active or commented */
  missing: string[];
  /** keys shown with a value other than the schema's default */
  wrongDefaults: { path: string; shown: unknown; default: unknown }[];
  /** keys in the example that the schema does not know (a typo, or prose read as a setting) */
  unknown: string[];
}

/** Compares an example config text with the schema's keys and defaults. */
export function compareExample(example: string, keys: SchemaKey[]): ExampleProblems {
  const doc: unknown = parse(uncomment(example));
  const missing: string[] = [];
  const wrongDefaults: ExampleProblems['wrongDefaults'] = [];
  for (const k of keys) {
    const shown = valuesAt(doc, k.path);
    if (shown.length === 0) {
      // keys inside a map's values ("headers.*.x") are the person's names: nothing to show
      if (!k.path.includes('*')) missing.push(k.path);
      continue;
    }
    // list items (routes, servers) are examples; so are the entries shown for a list or map that is empty by default
    if (!('default' in k) || k.path.includes('[]')) continue;
    for (const v of shown) if (!isDeepStrictEqual(v, k.default) && !exampleEntries(v, k.default)) wrongDefaults.push({ path: k.path, shown: v, default: k.default });
  }
  return { missing, wrongDefaults, unknown: unknownKeys(doc, new Set(keys.map((k) => k.path))) };
}

/** Entries shown for a list or map whose default is empty ("none"): examples of what one looks like. */
function exampleEntries(shown: unknown, dflt: unknown): boolean {
  if (Array.isArray(dflt)) return dflt.length === 0 && Array.isArray(shown);
  if (dflt && typeof dflt === 'object') return Object.keys(dflt).length === 0 && !!shown && typeof shown === 'object' && !Array.isArray(shown);
  return false;
}

function unknownKeys(doc: unknown, known: Set<string>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) return v.forEach((item) => walk(item, `${path}[]`));
    if (!v || typeof v !== 'object') return;
    for (const [key, child] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${key}` : key;
      if (known.has(p)) walk(child, p);
      else if (known.has(`${path}.*`) || [...known].some((k) => k.startsWith(`${path}.*.`))) walk(child, `${path}.*`);
      else if (!isMapPath(known, path)) out.push(p);
    }
  };
  walk(doc, '');
  return out;
}

/** A path whose keys are the person's own (a record), e.g. "network.mtu_groups", "mcp.servers[].env". */
function isMapPath(known: Set<string>, path: string): boolean {
  return path !== '' && known.has(path) && ![...known].some((k) => k.startsWith(`${path}.`) || k.startsWith(`${path}[]`));
}
