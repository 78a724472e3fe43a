/**
 * Reading infrastructure code into declared guests: a file or a folder (walked recursively) of Terraform
 * (*.tf with *.tfvars, one module per folder) and Ansible (inventories YAML/INI, group_vars/host_vars,
 * playbooks, roles). Files that cannot be read or parsed are problems in words; the rest is still read.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DeclaredGuest } from './model.ts';
import { readTerraformModule } from './terraform.ts';
import { guestsFromAnsible, hasProxmoxTasks } from './ansible.ts';
import { addIniInventory, addYamlInventory, emptyInventory, looksLikeIniInventory, looksLikeYamlInventory } from './inventory.ts';

const SKIP_DIRS = new Set(['.git', '.terraform', 'node_modules', '.venv', 'collections']);
const MAX_FILES = 5000;

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (out.length >= MAX_FILES) return;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await walk(path, out);
    } else if (entry.isFile()) out.push(path);
  }
}

const isYaml = (p: string) => /\.ya?ml$/i.test(p);
const inDir = (p: string, name: string) => p.split(sep).includes(name);
const isIniCandidate = (p: string) => /\.ini$/i.test(p) || ['hosts', 'inventory'].includes(basename(p)) || (!basename(p).includes('.') && (inDir(p, 'inventory') || inDir(p, 'inventories')));

export async function readCode(path: string): Promise<{ guests: DeclaredGuest[]; problems: string[]; files: string[] }> {
  const problems: string[] = [];
  let all: string[] = [];
  let root: string;
  try {
    if ((await stat(path)).isDirectory()) {
      root = path;
      await walk(path, all);
      if (all.length >= MAX_FILES) problems.push(`${path}: more than ${MAX_FILES} files; read the first ${MAX_FILES} only — point labwatch at the folder that holds the code`);
    } else {
      root = dirname(path);
      all = [path];
    }
  } catch (err) {
    return { guests: [], problems: [`${path}: could not be read: ${(err as Error).message}`], files: [] };
  }
  all.sort();
  const name = (p: string) => relative(root, p) || basename(p);
  const guests: DeclaredGuest[] = [];
  const files: string[] = [];

  // Terraform: each folder is its own module, with its own variables.
  const modules = new Map<string, string[]>();
  for (const p of all.filter((p) => p.endsWith('.tf') || p.endsWith('.tfvars'))) modules.set(dirname(p), [...(modules.get(dirname(p)) ?? []), p]);
  for (const moduleFiles of modules.values()) {
    const read = await readTerraformModule(moduleFiles, root);
    guests.push(...read.guests);
    problems.push(...read.problems);
    files.push(...moduleFiles.map(name));
  }

  // Ansible: inventories and vars first, then the playbooks and task files that use them.
  const inv = emptyInventory();
  const yamlDocs = new Map<string, unknown>();
  for (const p of all.filter((p) => isYaml(p) || isIniCandidate(p))) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (err) {
      problems.push(`${name(p)}: could not be read: ${(err as Error).message}`);
      continue;
    }
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
  for (const [p, doc] of yamlDocs) {
    guests.push(...guestsFromAnsible(doc as unknown[], name(p), inv, await roleVars(p)));
    files.push(name(p));
  }
  return { guests, problems, files };
}

/** A role's task file sees the role's defaults/main.yml, overridden by its vars/main.yml. */
async function roleVars(taskFile: string): Promise<Record<string, unknown>> {
  if (basename(dirname(taskFile)) !== 'tasks') return {};
  const role = dirname(dirname(taskFile));
  const out: Record<string, unknown> = {};
  for (const part of ['defaults', 'vars']) {
    for (const file of ['main.yml', 'main.yaml']) {
      try {
        const doc: unknown = parseYaml(await readFile(join(role, part, file), 'utf8'));
        if (doc && typeof doc === 'object' && !Array.isArray(doc)) Object.assign(out, doc);
      } catch {
        // absent or unreadable: the role has no such vars (a broken file is reported when the walk reaches it)
      }
    }
  }
  return out;
}
