/**
 * One Terraform module (a folder): its variables with defaults, overridden by .tfvars as Terraform does, its
 * locals, and every Proxmox guest resource of either provider, expanded over literal count/for_each.
 */
import { readFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { isUnknown, type DeclaredGuest } from './model.ts';
import { parseHcl, resolve, type Resolved, type Scope } from './hcl.ts';
import { guestFromTelmate, TELMATE_TYPES } from './telmate.ts';
import { guestFromBpg, BPG_TYPES } from './bpg.ts';

type Body = Record<string, unknown>;

interface Parsed {
  file: string;
  text: string;
  body: Body;
}

/** Terraform's own order: terraform.tfvars, then *.auto.tfvars by name; other .tfvars (given with -var-file) last. */
function tfvarsRank(file: string): [number, string] {
  const name = basename(file);
  if (name === 'terraform.tfvars') return [0, name];
  if (name.endsWith('.auto.tfvars')) return [1, name];
  return [2, name];
}

/**
 * Reads the .tf and .tfvars files of one folder. `root` makes file names relative for people.
 * A file that does not parse is a problem naming it and the parser's message; the others are still read.
 */
export async function readTerraformModule(files: string[], root: string): Promise<{ guests: DeclaredGuest[]; problems: string[] }> {
  const problems: string[] = [];
  const tf: Parsed[] = [];
  const tfvars: Parsed[] = [];
  for (const path of files) {
    const file = relative(root, path) || basename(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems.push(`${file}: could not be read: ${(err as Error).message}`);
      continue;
    }
    try {
      const body = await parseHcl(file, text);
      (path.endsWith('.tfvars') ? tfvars : tf).push({ file, text, body });
    } catch (err) {
      problems.push(`${file}: not valid HCL, so nothing in it was read: ${(err as Error).message}`);
    }
  }

  const scope: Scope = { vars: new Map(), locals: new Map() };
  const declared = new Set<string>();
  for (const { body } of tf) {
    for (const [name, blocks] of Object.entries((body.variable ?? {}) as Record<string, Body[]>)) {
      declared.add(name);
      const block = blocks[0] ?? {};
      scope.vars.set(name, 'default' in block
        ? await resolve(block.default, { vars: new Map(), locals: new Map() })
        : { unknown: `var.${name} has no default and no .tfvars sets it` });
    }
    for (const locals of (body.locals ?? []) as Body[]) for (const [name, raw] of Object.entries(locals)) scope.locals.set(name, raw);
  }
  for (const { file, body } of [...tfvars].sort((a, b) => compareRank(tfvarsRank(a.file), tfvarsRank(b.file)))) {
    for (const [name, raw] of Object.entries(body)) {
      if (!declared.has(name)) continue; // Terraform warns and ignores a value for an undeclared variable
      const value = await resolve(raw, { vars: new Map(), locals: new Map() });
      scope.vars.set(name, isUnknown(value) ? { unknown: `var.${name} in ${file}: ${value.unknown}` } : value);
    }
  }

  const guests: DeclaredGuest[] = [];
  for (const { file, text, body } of tf) {
    const resources = (body.resource ?? {}) as Record<string, Record<string, Body[]>>;
    for (const [type, byName] of Object.entries(resources)) {
      if (!TELMATE_TYPES.has(type) && !BPG_TYPES.has(type)) continue;
      for (const [name, blocks] of Object.entries(byName)) {
        for (const block of blocks) {
          const where = { file, line: lineOf(text, type, name), address: `${type}.${name}` };
          for (const instance of await instancesOf(block, scope)) {
            const instanceScope: Scope = { ...scope, instance: instance.names };
            const resolved = await resolve(withoutMeta(block), instanceScope) as Record<string, Resolved>;
            const at = { ...where, address: where.address + instance.suffix };
            const dynamic = dynamicBlocks(block);
            guests.push(TELMATE_TYPES.has(type) ? guestFromTelmate(type, resolved, at, dynamic) : guestFromBpg(type, resolved, at, dynamic));
          }
        }
      }
    }
  }
  return { guests, problems };
}

const compareRank = (a: [number, string], b: [number, string]) => a[0] - b[0] || a[1].localeCompare(b[1]);

/** Blocks that say nothing about the guest and may hold expressions labwatch need not read. */
const META = new Set(['count', 'for_each', 'lifecycle', 'provisioner', 'connection', 'depends_on', 'provider', 'dynamic']);

function withoutMeta(block: Body): Body {
  return Object.fromEntries(Object.entries(block).filter(([key]) => !META.has(key)));
}

/** Names of `dynamic "x"` blocks: their content depends on for_each, which labwatch does not expand. */
function dynamicBlocks(block: Body): Set<string> {
  const out = new Set<string>();
  for (const dyn of (block.dynamic ?? []) as Body[]) for (const name of Object.keys(dyn)) out.add(name);
  return out;
}

/** The instances a resource block stands for: one, or one per literal count/for_each element. */
async function instancesOf(block: Body, scope: Scope): Promise<{ suffix: string; names: Map<string, Resolved> }[]> {
  if ('count' in block) {
    const count = await resolve(block.count, scope);
    if (typeof count === 'number' && Number.isInteger(count) && count >= 0 && count <= 1000) {
      return Array.from({ length: count }, (_, i) => ({ suffix: `[${i}]`, names: new Map([['count.index', i]]) }));
    }
    const why = isUnknown(count) ? count.unknown : `count = ${JSON.stringify(count)} is not a whole number`;
    return [{ suffix: '[*]', names: new Map([['count.index', { unknown: `depends on count.index, and the count is unknown: ${why}` }]]) }];
  }
  if ('for_each' in block) {
    const each = await resolve(block.for_each, scope);
    const entries: [string, Resolved][] | undefined = Array.isArray(each) && each.every((k) => typeof k === 'string')
      ? (each as string[]).map((k) => [k, k])
      : each && typeof each === 'object' && !Array.isArray(each) && !isUnknown(each)
        ? Object.entries(each as Record<string, Resolved>)
        : undefined;
    if (entries) {
      return entries.map(([key, value]) => ({ suffix: `[${JSON.stringify(key)}]`, names: new Map([['each.key', key], ['each.value', value]]) }));
    }
    const why = isUnknown(each) ? each.unknown : `for_each = ${JSON.stringify(each)} is not a map or a set of strings`;
    const unknown = { unknown: `depends on each.key/each.value, and for_each is unknown: ${why}` };
    return [{ suffix: '[*]', names: new Map([['each.key', unknown], ['each.value', unknown]]) }];
  }
  return [{ suffix: '', names: new Map() }];
}

/** The line a resource block starts on, for people reading the report. */
function lineOf(text: string, type: string, name: string): number | undefined {
  const needle = new RegExp(`^\\s*resource\\s+"${type}"\\s+"${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`, 'm');
  const m = needle.exec(text);
  return m ? text.slice(0, m.index).split('\n').length : undefined;
}
