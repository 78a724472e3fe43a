/**
 * Terraform modules (one folder each): variables with defaults, overridden as Terraform does (terraform.tfvars,
 * then *.auto.tfvars; other .tfvars only with -var-file, so what they set is unknown), locals, and every
 * Proxmox guest resource of either provider, expanded over literal count/for_each. A folder another folder
 * calls as a local module (`source = "./modules/vm"`) is read once per call with the call's arguments.
 * *.tf.json and *.tfvars.json are read too (JSON.parse, normalised to hcl2json's shape).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve as resolvePath } from 'node:path';
import { isUnknown, type DeclaredGuest } from './model.ts';
import { Budget, parseHcl, resolve, type Resolved, type Scope } from './hcl.ts';
import { guestFromTelmate, TELMATE_TYPES } from './telmate.ts';
import { guestFromBpg, BPG_TYPES } from './bpg.ts';
import { isTemplate } from './values.ts';

type Body = Record<string, unknown>;

interface Parsed {
  file: string;
  text: string;
  body: Body;
}

/** One folder's parsed files. */
export interface TfModule {
  dir: string;
  tf: Parsed[];
  tfvars: Parsed[];
}

export interface TfResult {
  guests: DeclaredGuest[];
  problems: string[];
  /** addresses of guests declared as templates (`template = true`), left out like live.ts leaves them out */
  templates: string[];
}

/** Files bigger than this are not read: infrastructure code is small, and a huge file would stall the reader. */
const MAX_FILE_BYTES = 1024 * 1024;
/** count / for_each instances expanded per resource or module call. */
const MAX_INSTANCES = 256;
/** module calls inside module calls. */
const MAX_DEPTH = 8;

/** A file's text, or why it was not read (too big, unreadable). */
export async function readCapped(path: string, name: string): Promise<{ text: string } | { problem: string }> {
  try {
    const size = (await stat(path)).size;
    if (size > MAX_FILE_BYTES) return { problem: `${name}: ${size} bytes, more than the ${MAX_FILE_BYTES} labwatch reads in one file; nothing in it was read` };
    return { text: await readFile(path, 'utf8') };
  } catch (err) {
    return { problem: `${name}: could not be read: ${(err as Error).message}` };
  }
}

export const isTerraformFile = (p: string) => /\.(tf|tfvars)(\.json)?$/.test(p);
const isTfvars = (p: string) => /\.tfvars(\.json)?$/.test(p);
const isAutoTfvars = (p: string) => /^terraform\.tfvars(\.json)?$/.test(basename(p)) || /\.auto\.tfvars(\.json)?$/.test(p);

/** `{ "resource": { "t": { "n": {…} } } }` as hcl2json gives HCL: every named block a list of bodies. */
function normaliseJson(body: Body): Body {
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  const named = (v: unknown) => Object.fromEntries(Object.entries((v ?? {}) as Body).map(([k, x]) => [k, list(x)]));
  const out: Body = { ...body };
  if (body.resource) out.resource = Object.fromEntries(Object.entries(body.resource as Body).map(([t, byName]) => [t, named(byName)]));
  for (const key of ['variable', 'module']) if (body[key]) out[key] = named(body[key]);
  if (body.locals) out.locals = list(body.locals);
  return out;
}

/** Reads and parses one folder's Terraform files; a file that does not parse is a problem, the others are read. */
export async function parseTerraformFolder(files: string[], root: string, problems: string[]): Promise<TfModule> {
  const mod: TfModule = { dir: dirname(files[0]!), tf: [], tfvars: [] };
  for (const path of files) {
    const file = relative(root, path) || basename(path);
    const read = await readCapped(path, file);
    if ('problem' in read) {
      problems.push(read.problem);
      continue;
    }
    try {
      const body = path.endsWith('.json') ? normaliseJson(JSON.parse(read.text) as Body) : await parseHcl(file, read.text);
      (isTfvars(path) ? mod.tfvars : mod.tf).push({ file, text: read.text, body });
    } catch (err) {
      problems.push(`${file}: not valid ${path.endsWith('.json') ? 'JSON' : 'HCL'}, so nothing in it was read: ${(err as Error).message}`);
    }
  }
  return mod;
}

/** Local module sources (`./…`, `../…`) as folders, with the calls naming them. */
function localCalls(mod: TfModule): { name: string; block: Body; file: string; dir: string }[] {
  const out: { name: string; block: Body; file: string; dir: string }[] = [];
  for (const { file, body } of mod.tf) {
    for (const [name, blocks] of Object.entries((body.module ?? {}) as Record<string, Body[]>)) {
      for (const block of blocks) {
        if (typeof block.source === 'string' && /^\.\.?\//.test(block.source)) out.push({ name, block, file, dir: resolvePath(mod.dir, block.source) });
      }
    }
  }
  return out;
}

/** Folders some other folder calls as a local module: they are read through their calls, not on their own. */
export function calledFolders(modules: Map<string, TfModule>): Set<string> {
  const out = new Set<string>();
  for (const mod of modules.values()) for (const call of localCalls(mod)) if (call.dir !== mod.dir && modules.has(call.dir)) out.add(call.dir);
  return out;
}

/** How a called module is called: its arguments, for people where, and the address prefix. */
interface Call {
  args: Map<string, Resolved>;
  where: string;
  prefix: string;
  depth: number;
}

const emptyScope = (budget: Budget): Scope => ({ vars: new Map(), locals: new Map(), resolved: new Map(), budget });

async function scopeOf(mod: TfModule, budget: Budget, call: Call | undefined): Promise<Scope> {
  const scope: Scope = { ...emptyScope(budget) };
  const declared = new Set<string>();
  for (const { body } of mod.tf) {
    for (const [name, blocks] of Object.entries((body.variable ?? {}) as Record<string, Body[]>)) {
      declared.add(name);
      const block = blocks[0] ?? {};
      const given = call?.args.get(name);
      if (given !== undefined) {
        scope.vars.set(name, isUnknown(given) ? { unknown: `var.${name} is set by the module call in ${call!.where}: ${given.unknown}` } : given);
      } else if ('default' in block) {
        scope.vars.set(name, await resolve(block.default, emptyScope(budget)));
      } else {
        scope.vars.set(name, { unknown: call ? `var.${name} has no default and the module call in ${call.where} does not set it` : `var.${name} has no default and no .tfvars sets it` });
      }
    }
    for (const locals of (body.locals ?? []) as Body[]) for (const [name, raw] of Object.entries(locals)) scope.locals.set(name, raw);
  }
  if (call) return scope; // Terraform reads .tfvars for the root module only
  const applied = mod.tfvars.filter((t) => isAutoTfvars(t.file)).sort((a, b) => tfvarsRank(a.file) - tfvarsRank(b.file) || a.file.localeCompare(b.file));
  for (const { file, body } of applied) {
    for (const [name, raw] of Object.entries(body)) {
      if (!declared.has(name)) continue; // Terraform warns and ignores a value for an undeclared variable
      const value = await resolve(raw, emptyScope(budget));
      scope.vars.set(name, isUnknown(value) ? { unknown: `var.${name} in ${file}: ${value.unknown}` } : value);
    }
  }
  // dev.tfvars, prod.tfvars…: used only with -var-file, so which value applies is not in the code
  const byVar = new Map<string, string[]>();
  for (const { file, body } of mod.tfvars.filter((t) => !isAutoTfvars(t.file))) {
    for (const name of Object.keys(body)) if (declared.has(name)) byVar.set(name, [...(byVar.get(name) ?? []), file]);
  }
  for (const [name, files] of byVar) {
    scope.vars.set(name, { unknown: `var.${name} is set in ${files.join(', ')}, which Terraform reads only when run with -var-file; labwatch cannot tell which applies` });
  }
  return scope;
}

const tfvarsRank = (file: string) => (/^terraform\.tfvars(\.json)?$/.test(basename(file)) ? 0 : 1);

/** The guests one module declares, and those of the local modules it calls (read with each call's arguments). */
export async function guestsOfModule(mod: TfModule, modules: Map<string, TfModule>, root: string, budget: Budget, call?: Call): Promise<TfResult> {
  const out: TfResult = { guests: [], problems: [], templates: [] };
  const scope = await scopeOf(mod, budget, call);
  const prefix = call?.prefix ?? '';
  for (const { file, text, body } of mod.tf) {
    const resources = (body.resource ?? {}) as Record<string, Record<string, Body[]>>;
    for (const [type, byName] of Object.entries(resources)) {
      if (!TELMATE_TYPES.has(type) && !BPG_TYPES.has(type)) continue;
      for (const [name, blocks] of Object.entries(byName)) {
        for (const block of blocks) {
          const address = `${prefix}${type}.${name}`;
          const line = lineOf(text, 'resource', [type, name]);
          const instances = await instancesOf(block, scope, `${file}: ${address}`, out.problems);
          for (const instance of instances) {
            const resolved = await resolve(withoutMeta(block), { ...scope, instance: instance.names }) as Record<string, Resolved>;
            const at = { file, ...(line ? { line } : {}), address: address + instance.suffix };
            if (isTemplate(resolved.template)) {
              out.templates.push(at.address);
              continue;
            }
            const dynamic = dynamicBlocks(block);
            out.guests.push(TELMATE_TYPES.has(type) ? guestFromTelmate(type, resolved, at, dynamic) : guestFromBpg(type, resolved, at, dynamic));
          }
        }
      }
    }
  }
  for (const c of localCalls(mod)) {
    const target = modules.get(c.dir);
    const where = `${c.file}: ${prefix}module.${c.name}`;
    if (!target) {
      out.problems.push(`${where}: its source ${String(c.block.source)} is not under the path read, so the guests it declares were not read; point labwatch at the folder that holds both`);
      continue;
    }
    if ((call?.depth ?? 0) >= MAX_DEPTH || target === mod) {
      out.problems.push(`${where}: modules call each other more than ${MAX_DEPTH} deep (or in a loop); not followed further`);
      continue;
    }
    for (const instance of await instancesOf(c.block, scope, where, out.problems)) {
      const args = new Map<string, Resolved>();
      for (const [key, raw] of Object.entries(withoutMeta(c.block))) {
        if (!['source', 'version', 'providers'].includes(key)) args.set(key, await resolve(raw, { ...scope, instance: instance.names }));
      }
      const sub = await guestsOfModule(target, modules, root, budget, {
        args, where: where + instance.suffix, prefix: `${prefix}module.${c.name}${instance.suffix}.`, depth: (call?.depth ?? 0) + 1,
      });
      out.guests.push(...sub.guests);
      out.problems.push(...sub.problems);
      out.templates.push(...sub.templates);
    }
  }
  return out;
}

/** Blocks that say nothing about the guest and may hold expressions labwatch need not read. */
const META = new Set(['count', 'for_each', 'lifecycle', 'provisioner', 'connection', 'depends_on', 'provider', 'dynamic']);

function withoutMeta(block: Body): Body {
  return Object.fromEntries(Object.entries(block).filter(([key]) => !META.has(key)));
}

/** Names of `dynamic "x"` blocks (hcl2json: `dynamic: { x: […] }`): their content depends on a for_each labwatch does not expand. */
function dynamicBlocks(block: Body): Set<string> {
  const out = new Set<string>();
  const dyn = block.dynamic;
  for (const item of Array.isArray(dyn) ? dyn : dyn && typeof dyn === 'object' ? [dyn] : []) {
    if (item && typeof item === 'object') for (const name of Object.keys(item)) out.add(name);
  }
  return out;
}

type Instance = { suffix: string; names: Map<string, Resolved> };

/** The instances a block stands for: one, or one per literal count/for_each element (at most MAX_INSTANCES). */
async function instancesOf(block: Body, scope: Scope, where: string, problems: string[]): Promise<Instance[]> {
  const tooMany = (n: number, what: string) => {
    problems.push(`${where}: ${what} = ${n} instances, more than the ${MAX_INSTANCES} labwatch expands; read as one guest whose name and vmid are unknown`);
  };
  if ('count' in block) {
    const count = await resolve(block.count, scope);
    if (typeof count === 'number' && Number.isInteger(count) && count >= 0 && count <= MAX_INSTANCES) {
      return Array.from({ length: count }, (_, i) => ({ suffix: `[${i}]`, names: new Map([['count.index', i]]) }));
    }
    if (typeof count === 'number' && count > MAX_INSTANCES) tooMany(count, 'count');
    const why = isUnknown(count) ? count.unknown : `count = ${JSON.stringify(count)} is ${typeof count === 'number' && count > MAX_INSTANCES ? 'too many to expand' : 'not a whole number'}`;
    return [{ suffix: '[*]', names: new Map([['count.index', { unknown: `depends on count.index, and the count is unknown: ${why}` }]]) }];
  }
  if ('for_each' in block) {
    const each = await resolve(block.for_each, scope);
    const entries: [string, Resolved][] | undefined = Array.isArray(each) && each.every((k) => typeof k === 'string')
      ? (each as string[]).map((k) => [k, k])
      : each && typeof each === 'object' && !Array.isArray(each) && !isUnknown(each)
        ? Object.entries(each as Record<string, Resolved>)
        : undefined;
    if (entries && entries.length <= MAX_INSTANCES) {
      return entries.map(([key, value]) => ({ suffix: `[${JSON.stringify(key)}]`, names: new Map([['each.key', key], ['each.value', value]]) }));
    }
    if (entries) tooMany(entries.length, 'for_each');
    const why = isUnknown(each) ? each.unknown : entries ? `for_each has ${entries.length} elements, too many to expand` : `for_each = ${JSON.stringify(each)} is not a map or a set of strings`;
    const unknown = { unknown: `depends on each.key/each.value, and for_each is unknown: ${why}` };
    return [{ suffix: '[*]', names: new Map([['each.key', unknown], ['each.value', unknown]]) }];
  }
  return [{ suffix: '', names: new Map() }];
}

/** The line a block starts on, for people reading the report. */
function lineOf(text: string, kind: string, labels: string[]): number | undefined {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^\\s*${kind}\\s+${labels.map((l) => `"${esc(l)}"`).join('\\s+')}`, 'm').exec(text);
  return m ? text.slice(0, m.index).split('\n').length : undefined;
}
