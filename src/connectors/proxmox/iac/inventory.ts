/**
 * Ansible inventories, YAML and INI, read for what they say to playbooks: which hosts are in which group and
 * the variables they carry (group_vars/ and host_vars/ files included). An inventory alone declares no guest:
 * a host name may be a Proxmox guest, a switch or the Proxmox node itself.
 *
 * The INI form is read by hand: its host lines (`web1 ansible_host=10.0.0.5 vmid=101`) are not INI key=value
 * pairs, and an INI library would read them wrongly.
 */
import { parse as parseYaml } from 'yaml';

type Vars = Record<string, unknown>;

export interface Inventory {
  /** host → its own variables */
  hosts: Map<string, Vars>;
  /** group → its hosts (children included) */
  groups: Map<string, Set<string>>;
  groupVars: Map<string, Vars>;
}

export const emptyInventory = (): Inventory => ({ hosts: new Map(), groups: new Map(), groupVars: new Map() });

const isMap = (v: unknown): v is Vars => !!v && typeof v === 'object' && !Array.isArray(v);

/** Is this parsed YAML an inventory (all:/groups with hosts, children or vars) rather than a playbook? */
export function looksLikeYamlInventory(doc: unknown): doc is Vars {
  if (!isMap(doc)) return false;
  const groups = Object.values(doc);
  return groups.length > 0 && groups.every((g) => g === null || (isMap(g) && Object.keys(g).every((k) => ['hosts', 'children', 'vars'].includes(k))));
}

export function addYamlInventory(inv: Inventory, doc: Vars): void {
  const children = new Map<string, string[]>();
  const walk = (group: string, body: unknown) => {
    if (!isMap(body)) return;
    const members = inv.groups.get(group) ?? new Set<string>();
    inv.groups.set(group, members);
    for (const [host, vars] of Object.entries(isMap(body.hosts) ? body.hosts : {})) {
      members.add(host);
      inv.hosts.set(host, { ...(inv.hosts.get(host) ?? {}), ...(isMap(vars) ? vars : {}) });
    }
    if (isMap(body.vars)) inv.groupVars.set(group, { ...(inv.groupVars.get(group) ?? {}), ...body.vars });
    for (const [child, childBody] of Object.entries(isMap(body.children) ? body.children : {})) {
      children.set(group, [...(children.get(group) ?? []), child]);
      walk(child, childBody);
    }
  };
  for (const [group, body] of Object.entries(doc)) walk(group, body ?? {});
  foldChildren(inv, children);
}

/** Is this text an INI inventory? Section headers or host lines, and not YAML's `key:` lines. */
export function looksLikeIniInventory(text: string): boolean {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  return lines.length > 0 && lines.some((l) => /^\[[^\]]+\]$/.test(l)) && !lines.some((l) => /^[\w.-]+:(\s|$)/.test(l));
}

export function addIniInventory(inv: Inventory, text: string): void {
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const children = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      section = header[1]!;
      kind = (header[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      if (!inv.groups.has(section)) inv.groups.set(section, new Set());
      continue;
    }
    if (kind === 'children') {
      children.set(section, [...(children.get(section) ?? []), line]);
      continue;
    }
    const pairs = [...line.matchAll(/([\w.-]+)=("[^"]*"|'[^']*'|\S+)/g)].map(([, k, v]) => [k!, iniValue(v!)] as const);
    if (kind === 'vars') {
      inv.groupVars.set(section, { ...(inv.groupVars.get(section) ?? {}), ...Object.fromEntries(pairs) });
      continue;
    }
    const host = line.split(/\s+/)[0]!;
    (inv.groups.get(section) ?? inv.groups.set(section, new Set()).get(section)!).add(host);
    inv.hosts.set(host, { ...(inv.hosts.get(host) ?? {}), ...Object.fromEntries(pairs) });
  }
  foldChildren(inv, children);
}

/** INI values are strings, except what YAML would read as a number or boolean (as Ansible does). */
function iniValue(v: string): unknown {
  if (/^(".*"|'.*')$/.test(v)) return v.slice(1, -1);
  const parsed: unknown = parseYaml(v);
  return typeof parsed === 'number' || typeof parsed === 'boolean' ? parsed : v;
}

function foldChildren(inv: Inventory, children: Map<string, string[]>): void {
  const members = (group: string, seen: Set<string>): Set<string> => {
    const out = new Set(inv.groups.get(group) ?? []);
    for (const child of children.get(group) ?? []) if (!seen.has(child)) for (const h of members(child, new Set([...seen, child]))) out.add(h);
    return out;
  };
  for (const group of new Set([...inv.groups.keys(), ...children.keys()])) inv.groups.set(group, members(group, new Set([group])));
  inv.groups.set('all', new Set(inv.hosts.keys()));
}

/** The variables a host sees from the inventory: all, then its groups, then its own (Ansible's order). */
export function hostVars(inv: Inventory, host: string | undefined): Vars {
  const out: Vars = { ...(inv.groupVars.get('all') ?? {}) };
  if (host === undefined) return out;
  for (const [group, members] of inv.groups) if (group !== 'all' && members.has(host)) Object.assign(out, inv.groupVars.get(group) ?? {});
  return { ...out, ...(inv.hosts.get(host) ?? {}), inventory_hostname: host };
}

/** The hosts a play's `hosts:` pattern names (groups, hosts, `a:b` unions); empty when it names none we know. */
export function hostsOf(inv: Inventory, pattern: unknown): string[] {
  if (typeof pattern !== 'string') return [];
  const out = new Set<string>();
  for (const part of pattern.split(/[:,]/).map((p) => p.trim())) {
    if (part === 'localhost') continue;
    for (const h of inv.groups.get(part) ?? (inv.hosts.has(part) ? [part] : [])) out.add(h);
  }
  return [...out];
}
