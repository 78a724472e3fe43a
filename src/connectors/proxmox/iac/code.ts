/**
 * Reading infrastructure code into declared guests: a file or a folder (walked recursively) of Terraform
 * (*.tf, *.tf.json with their .tfvars; one module per folder, local module calls followed) and Ansible
 * (inventories YAML/INI, group_vars/host_vars, playbooks, roles). Files that cannot be read or parsed are
 * problems in words; the rest is still read. The work is bounded (file size, instances, evaluations, time)
 * and cancellable: going over a bound is a problem saying which, never a hang.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DeclaredGuest } from './model.ts';
import { Budget, BudgetExceeded } from './hcl.ts';
import { calledFolders, guestsOfModule, isTerraformFile, parseTerraformFolder, readCapped, type TfModule } from './terraform.ts';
import { guestsFromAnsible, hasProxmoxTasks } from './ansible.ts';
import { addIniInventory, addYamlInventory, emptyInventory, looksLikeIniInventory, looksLikeYamlInventory } from './inventory.ts';

const SKIP_DIRS = new Set(['.git', '.terraform', 'node_modules', '.venv', 'collections']);
const MAX_FILES = 5000;

/** Regular files under `dir`; symbolic links are listed apart (not followed: they may lead out of the tree). */
async function walk(dir: string, out: string[], links: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (out.length >= MAX_FILES) return;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await walk(path, out, links);
    } else if (entry.isFile()) out.push(path);
    else if (entry.isSymbolicLink()) links.push(path);
  }
}

const isYaml = (p: string) => /\.ya?ml$/i.test(p);
const inDir = (p: string, name: string) => p.split(sep).includes(name);
const isIniCandidate = (p: string) => /\.ini$/i.test(p) || ['hosts', 'inventory'].includes(basename(p)) || (!basename(p).includes('.') && (inDir(p, 'inventory') || inDir(p, 'inventories')));
const isCodeLike = (p: string) => isTerraformFile(p) || isYaml(p) || isIniCandidate(p);

interface CodeRead {
  guests: DeclaredGuest[];
  problems: string[];
  files: string[];
  /** addresses of guests code declares as templates: left out of the comparison, as live.ts leaves templates out */
  templates: string[];
}

/** Reads `path` (a file or folder); `signal` stops the reading, which then reports a problem. */
export async function readCode(path: string, signal?: AbortSignal): Promise<CodeRead> {
  const problems: string[] = [];
  let all: string[] = [];
  const links: string[] = [];
  let root: string;
  try {
    if ((await stat(path)).isDirectory()) {
      root = path;
      await walk(path, all, links);
      if (all.length >= MAX_FILES) problems.push(`${path}: more than ${MAX_FILES} files; read the first ${MAX_FILES} only — point labwatch at the folder that holds the code`);
    } else {
      root = dirname(path);
      all = [path];
    }
  } catch (err) {
    return { guests: [], problems: [`${path}: could not be read: ${(err as Error).message}`], files: [], templates: [] };
  }
  all.sort();
  const name = (p: string) => relative(root, p) || basename(p);
  for (const link of links.sort()) {
    if (isCodeLike(link)) problems.push(`${name(link)}: a symbolic link, not followed (it may lead outside the folder read); point labwatch at the real file's folder`);
  }
  const guests: DeclaredGuest[] = [];
  const files: string[] = [];
  const templates: string[] = [];
  const budget = new Budget(undefined, undefined, signal);

  try {
    // Terraform: each folder is its own module; a folder another calls as a local module is read through its calls.
    const byDir = new Map<string, string[]>();
    for (const p of all.filter(isTerraformFile)) byDir.set(resolvePath(dirname(p)), [...(byDir.get(resolvePath(dirname(p))) ?? []), p]);
    const modules = new Map<string, TfModule>();
    for (const [dir, moduleFiles] of byDir) {
      budget.tick();
      const mod = await parseTerraformFolder(moduleFiles, root, problems);
      modules.set(dir, { ...mod, dir });
      files.push(...moduleFiles.map(name));
    }
    const called = calledFolders(modules);
    for (const mod of modules.values()) {
      if (called.has(mod.dir)) continue;
      const read = await guestsOfModule(mod, modules, root, budget);
      guests.push(...read.guests);
      problems.push(...read.problems);
      templates.push(...read.templates);
    }

    // Ansible: inventories and vars first, then the playbooks and task files that use them.
    const inv = emptyInventory();
    const yamlDocs = new Map<string, unknown>();
    for (const p of all.filter((p) => isYaml(p) || isIniCandidate(p))) {
      budget.tick();
      const read = await readCapped(p, name(p));
      if ('problem' in read) {
        problems.push(read.problem);
        continue;
      }
      const text = read.text;
      if (!isYaml(p)) {
        if (looksLikeIniInventory(text)) {
          addIniInventory(inv, text);
          files.push(name(p));
        }
        continue;
      }
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (err) {
        problems.push(`${name(p)}: not valid YAML, so nothing in it was read: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      const parent = basename(dirname(p));
      const grand = basename(dirname(dirname(p)));
      const varsOwner = parent === 'group_vars' || parent === 'host_vars' ? [parent, basename(p).replace(/\.ya?ml$/i, '')]
        : grand === 'group_vars' || grand === 'host_vars' ? [grand, parent] : undefined;
      if (varsOwner && doc && typeof doc === 'object' && !Array.isArray(doc)) {
        const [kind, owner] = varsOwner as [string, string];
        const target = kind === 'group_vars' ? inv.groupVars : inv.hosts;
        target.set(owner, { ...(target.get(owner) ?? {}), ...(doc as Record<string, unknown>) });
        files.push(name(p));
      } else if (looksLikeYamlInventory(doc) && /(inventory|hosts)/i.test(name(p))) {
        addYamlInventory(inv, doc);
        files.push(name(p));
      } else if (hasProxmoxTasks(doc)) {
        yamlDocs.set(p, doc);
      }
    }
    const realRoot = await realpath(root);
    for (const [p, doc] of yamlDocs) {
      budget.tick();
      guests.push(...guestsFromAnsible(doc as unknown[], name(p), inv, await roleVars(p, realRoot)));
      files.push(name(p));
    }
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err;
    problems.push(`${path}: reading stopped: ${err.message}; the guests read until then are kept, the rest were not read — point labwatch at a smaller folder, or simplify the expressions`);
  }
  return { guests, problems, files, templates };
}

/**
 * A role's task file sees the role's defaults/main.yml, overridden by its vars/main.yml. Only regular files
 * inside the folder read: a symbolic link (listed as a problem by the walk) is not followed.
 */
async function roleVars(taskFile: string, realRoot: string): Promise<Record<string, unknown>> {
  if (basename(dirname(taskFile)) !== 'tasks') return {};
  const role = dirname(dirname(taskFile));
  const out: Record<string, unknown> = {};
  for (const part of ['defaults', 'vars']) {
    for (const file of ['main.yml', 'main.yaml']) {
      const path = join(role, part, file);
      try {
        if (!(await lstat(path)).isFile()) continue;
        const real = await realpath(path);
        if (relative(realRoot, real).startsWith('..')) continue;
        const read = await readCapped(path, path);
        if ('problem' in read) continue; // reported when the walk reaches the file
        const doc: unknown = parseYaml(read.text);
        if (doc && typeof doc === 'object' && !Array.isArray(doc)) Object.assign(out, doc);
      } catch {
        // absent or unreadable: the role has no such vars (a broken file is reported when the walk reaches it)
      }
    }
  }
  return out;
}
