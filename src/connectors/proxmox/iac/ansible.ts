/**
 * Ansible playbooks, task files and roles: tasks of `proxmox_kvm` (community.general / community.proxmox) and
 * `proxmox` (LXC) as guests. `{{ var }}` is resolved from the play's vars, the role's defaults/vars and the
 * inventory when the value is literal (plus `| default(literal)`); anything else is unknown with the reason.
 *
 * proxmox_kvm leaves an existing VM alone unless `update: true`, so a later task about the same VM only
 * changes what is declared when it says `update: true`; tasks with another state (started, absent…) declare
 * nothing. A play's `hosts:` are looked up in the inventory; with none found, the task runs once.
 */
import { parse as parseYaml } from 'yaml';
import { isUnknown, type DeclaredGuest, type GuestDisk, type GuestNic } from './model.ts';
import type { Resolved } from './hcl.ts';
import { hostsOf, hostVars, type Inventory } from './inventory.ts';
import { bool, defined, num, sizeGb, str, tags, vlanTag, vmid } from './values.ts';

type Vars = Record<string, unknown>;
type Task = Record<string, unknown>;

const KVM = new Set(['community.general.proxmox_kvm', 'community.proxmox.proxmox_kvm', 'proxmox_kvm']);
const LXC = new Set(['community.general.proxmox', 'community.proxmox.proxmox', 'proxmox']);

const isMap = (v: unknown): v is Vars => !!v && typeof v === 'object' && !Array.isArray(v);

/** Does this parsed YAML look like a playbook or a task list with a Proxmox guest task? */
export function hasProxmoxTasks(doc: unknown): boolean {
  return Array.isArray(doc) && JSON.stringify(doc).match(/"(community\.(general|proxmox)\.)?proxmox(_kvm)?"/) !== null;
}

/**
 * Guests declared by one YAML file: a playbook (plays with tasks) or a task file (a role's tasks/main.yml).
 * `extraVars` are a role's defaults and vars, for its task files.
 */
export function guestsFromAnsible(doc: unknown[], file: string, inv: Inventory, extraVars: Vars): DeclaredGuest[] {
  const byKey = new Map<string, DeclaredGuest>();
  const plays = doc.every((p) => isMap(p) && ('hosts' in p || 'tasks' in p || 'import_playbook' in p)) ? doc as Vars[] : [{ tasks: doc }];
  for (const play of plays) {
    const playVars = isMap(play.vars) ? play.vars : {};
    const tasks = ['pre_tasks', 'tasks', 'post_tasks'].flatMap((k) => (Array.isArray(play[k]) ? play[k] as unknown[] : []));
    const hosts = hostsOf(inv, play.hosts);
    for (const task of flatten(tasks)) {
      const module = Object.keys(task).find((k) => KVM.has(k) || LXC.has(k));
      if (!module || !isMap(task[module])) continue;
      const args = task[module] as Vars;
      const state = args.state ?? 'present';
      if (state !== 'present') continue;
      // A play's task runs on each of its hosts, with that host's inventory vars; hosts that end up declaring
      // the same VM (same vmid or name) declare it once.
      for (const host of hosts.length > 0 ? hosts : [undefined]) {
        const vars = { ...extraVars, ...hostVars(inv, host), ...playVars, ...(isMap(task.vars) ? task.vars : {}) };
        for (const item of loopOf(task, vars)) {
          const itemVars = item ? { ...vars, [item.name]: item.value } : vars;
          const at = { file, address: String(task.name ?? module) + (item ? ` [${item.label}]` : '') + (host && hosts.length > 1 ? ` (${host})` : '') };
          const guest = KVM.has(module) ? kvm(args, itemVars, at) : lxc(args, itemVars, at);
          const key = `${guest.kind}:${JSON.stringify(guest.vmid ?? guest.name ?? null)}`;
          const earlier = byKey.get(key);
          if (!earlier) byKey.set(key, guest);
          else if (args.update === true) byKey.set(key, merge(earlier, guest));
        }
      }
    }
  }
  return [...byKey.values()];
}

const MAX_LOOP = 256;

/**
 * A task's `loop:` / `with_items:` over a literal list (or a variable holding one): one run per item, the
 * item under `item` (or loop_control.loop_var). A loop labwatch cannot read runs once with the item unset,
 * so what depends on it is unknown.
 */
function loopOf(task: Task, vars: Vars): ({ name: string; value: unknown; label: string } | undefined)[] {
  const raw = task.loop ?? task.with_items;
  if (raw === undefined) return [undefined];
  const name = isMap(task.loop_control) && typeof task.loop_control.loop_var === 'string' ? task.loop_control.loop_var : 'item';
  const items = jinja(raw, vars);
  if (!Array.isArray(items) || items.length > MAX_LOOP) {
    const why = isUnknown(items) ? items.unknown : Array.isArray(items) ? `more than ${MAX_LOOP} items` : 'not a list';
    return [{ name, value: { unknown: `the task's loop is not read: ${why}` }, label: '*' }];
  }
  return items.map((value, i) => ({ name, value, label: isMap(value) && !isUnknown(value) && typeof value.name === 'string' ? value.name : String(i) }));
}

/** Tasks inside block/rescue/always count as tasks too. */
function flatten(tasks: unknown[]): Task[] {
  return tasks.filter(isMap).flatMap((t) => ('block' in t ? flatten([t.block, t.rescue, t.always].flatMap((b) => (Array.isArray(b) ? b : [])) as unknown[]) : [t]));
}

function merge(a: DeclaredGuest, b: DeclaredGuest): DeclaredGuest {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    if (k !== 'where' && v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out as unknown as DeclaredGuest;
}

/** Resolves Jinja in a value: `{{ name }}`, `{{ name | default(literal) }}` and text around them. */
function jinja(v: unknown, vars: Vars, depth = 0): Resolved {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => jinja(x, vars, depth));
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jinja(x, vars, depth)]));
  if (typeof v !== 'string') return { unknown: `a value of type ${typeof v}` };
  const parts = v.split(/(\{\{.*?\}\})/s);
  if (parts.length === 1) return v.includes('{%') ? { unknown: `"${v}" uses Jinja statements labwatch does not run` } : v;
  const values = parts.map((p) => (p.startsWith('{{') ? expression(p.slice(2, -2).trim(), vars, depth) : p));
  if (values.length === 3 && values[0] === '' && values[2] === '') return values[1]!;
  const bad = values.find((x) => isUnknown(x));
  if (bad) return bad;
  return values.map((x) => (x === null ? '' : String(x))).join('');
}

/** `name`, `item.name`, `name | default(literal)`; `default(omit)` means "not stated" (null). */
function expression(expr: string, vars: Vars, depth: number): Resolved {
  const m = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(?:\|\s*default\((.*)\))?$/.exec(expr);
  if (!m) return { unknown: `{{ ${expr} }} is a Jinja expression labwatch does not evaluate` };
  const [, path, fallback] = m;
  const [name, ...keys] = path!.split('.');
  let value: unknown = vars[name!];
  for (const key of keys) if (!isUnknown(value)) value = isMap(value) ? value[key] : undefined;
  if (isUnknown(value)) return value;
  if (value !== undefined) {
    if (depth > 10) return { unknown: `{{ ${expr} }} refers to itself` };
    return jinja(value, vars, depth + 1);
  }
  if (fallback !== undefined) {
    if (fallback.trim() === 'omit') return null;
    const literal: unknown = parseYaml(fallback);
    if (literal === null || ['string', 'number', 'boolean'].includes(typeof literal)) return literal as Resolved;
    return { unknown: `{{ ${expr} }}: ${path} is not set and the default is not a literal` };
  }
  if (name! in vars && keys.length > 0) return { unknown: `{{ ${path} }}: ${name} has no ${keys.join('.')}` };
  return { unknown: `{{ ${path} }}: ${name} is not set in the play's vars, the role's defaults or the inventory` };
}

/** `virtio,bridge=vmbr0,tag=20` / `model=e1000,bridge=vmbr0` / `virtio=AA:BB…,bridge=…` as a NIC. */
function nic(slot: string, value: Resolved, lxcStyle: boolean): GuestNic {
  if (isUnknown(value)) return { slot, bridge: value };
  if (typeof value !== 'string') return { slot, bridge: { unknown: `${slot} = ${JSON.stringify(value)} is not a Proxmox network string` } };
  const fields = new Map<string, string>();
  let model: string | undefined;
  for (const [i, part] of value.split(',').entries()) {
    const [k, v] = part.split('=', 2) as [string, string | undefined];
    if (i === 0 && !lxcStyle && (v === undefined || /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v))) model = k.trim();
    else if (v !== undefined) fields.set(k.trim(), v.trim());
  }
  return defined({
    slot,
    bridge: fields.get('bridge'),
    model: lxcStyle ? undefined : (model ?? fields.get('model')),
    tag: vlanTag(fields.get('tag'), `${slot} tag`),
    mtu: num(fields.get('mtu'), `${slot} mtu`),
  });
}

/**
 * `local-lvm:32` (a new 32 GiB volume) or `local-lvm:vm-100-disk-0,size=50G`; a host path (`/dev/disk/by-id/…`
 * passed through, a container's bind mount `/tank/media,mp=/data`) has no storage; `mp=` is where a container
 * mount appears inside. CD-ROMs and cloud-init drives are not disks.
 */
function disk(slot: string, value: Resolved): GuestDisk | undefined {
  if (isUnknown(value)) return { slot, storage: value, sizeGb: value };
  if (typeof value !== 'string') return { slot, storage: { unknown: `${slot} = ${JSON.stringify(value)} is not a Proxmox disk string` } };
  const [volume, ...options] = value.split(',');
  if (options.includes('media=cdrom') || /cloudinit/.test(volume!)) return undefined;
  const mountpoint = options.find((o) => o.startsWith('mp='))?.slice(3);
  const size = options.find((o) => o.startsWith('size='))?.slice(5);
  if (volume!.startsWith('/')) return defined({ slot, path: volume, sizeGb: sizeGb(size, `${slot} size`), mountpoint });
  const [storage, rest] = volume!.split(':', 2) as [string, string | undefined];
  const newSize = size ?? (rest !== undefined && /^\d+(\.\d+)?$/.test(rest) ? rest : undefined);
  return defined({ slot, storage: rest === undefined ? undefined : storage, sizeGb: sizeGb(newSize, `${slot} size`), mountpoint });
}

/** Slot dictionaries (`net: {net0: …}`, `scsi: {scsi0: …}`, also `{0: …}`) and flat `ide2: …` keys. */
function slots(args: Vars, prefixes: string[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const prefix of prefixes) {
    if (isMap(args[prefix])) for (const [k, v] of Object.entries(args[prefix])) out.push([/^\d+$/.test(k) ? `${prefix}${k}` : k, v]);
    for (const [k, v] of Object.entries(args)) if (new RegExp(`^${prefix}\\d+$`).test(k)) out.push([k, v]);
  }
  return out;
}

function kvm(args: Vars, vars: Vars, where: DeclaredGuest['where']): DeclaredGuest {
  const r = (key: string) => jinja(args[key], vars);
  const disks = slots(args, ['scsi', 'sata', 'ide', 'virtio']).flatMap(([slot, v]) => disk(slot, jinja(v, vars)) ?? []);
  return defined({
    provider: 'ansible' as const, kind: 'qemu' as const, where,
    vmid: vmid(r('vmid'), 'vmid'), name: str(r('name'), 'name'), node: str(r('node'), 'node'),
    cores: num(r('cores'), 'cores'), sockets: num(r('sockets'), 'sockets'), memoryMb: num(r('memory'), 'memory'),
    onboot: bool(r('onboot'), 'onboot'), tags: tags(r('tags'), 'tags'),
    disks, nics: slots(args, ['net']).map(([slot, v]) => nic(slot, jinja(v, vars), false)),
  });
}

function lxc(args: Vars, vars: Vars, where: DeclaredGuest['where']): DeclaredGuest {
  const r = (key: string) => jinja(args[key], vars);
  const root = typeof args.disk === 'string' ? disk('rootfs', jinja(args.disk, vars)) : undefined;
  const mounts = slots(args, ['mounts']).flatMap(([slot, v]) => disk(slot.replace(/^mounts/, 'mp'), jinja(v, vars)) ?? []);
  return defined({
    provider: 'ansible' as const, kind: 'lxc' as const, where,
    vmid: vmid(r('vmid'), 'vmid'), name: str(r('hostname'), 'hostname'), node: str(r('node'), 'node'),
    cores: num(r('cores'), 'cores'), memoryMb: num(r('memory'), 'memory'),
    onboot: bool(r('onboot'), 'onboot'), tags: tags(r('tags'), 'tags'),
    disks: [...(root ? [root] : []), ...mounts],
    nics: slots(args, ['netif']).map(([slot, v]) => nic(slot.replace(/^netif/, 'net'), jinja(v, vars), true)),
  });
}
