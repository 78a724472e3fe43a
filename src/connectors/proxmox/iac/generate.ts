/**
 * Terraform for guests that already run, written from their live config, with `import` blocks so that
 * `terraform plan` adopts them instead of creating new ones. Either Proxmox provider:
 * - bpg/proxmox: `proxmox_virtual_environment_vm` / `_container`, import id `<node_name>/<vm_id>`
 *   (the resources' "Import" sections in bpg's docs);
 * - telmate/proxmox 3.x: `proxmox_vm_qemu` (the `disks {}` form) / `proxmox_lxc`, import id
 *   `<node>/<type>/<vmid>` (`[node]/[type]/[vmId]` in vm_qemu's docs; `pve/lxc/100` for a container).
 *
 * Never a secret: a key Proxmox holds a secret in (`cipassword`) becomes a `sensitive` variable with no
 * default. MAC addresses and disk volume names are left out on purpose: both providers read them back
 * as computed values after the import (bpg `mac_address`, Telmate `macaddr` is Optional+Computed), so
 * leaving them unset changes nothing, while a copied value would pin the file to one machine.
 */
import type { GuestNic, LiveGuest, Value } from './model.ts';
import { isUnknown } from './model.ts';
import { type Block, type Item, attr, block, bool, comment, list, num, ref, str, writeFile } from './write-hcl.ts';

type Provider = 'bpg' | 'telmate';

const SOURCE: Record<Provider, string> = { bpg: 'bpg/proxmox', telmate: 'telmate/proxmox' };

/** What a guest's Terraform needs besides its resource: variables the user fills in. */
interface Variable {
  name: string;
  description: string;
  sensitive: boolean;
}

interface Written {
  resource: Block;
  address: string;
  importId: string;
  variables: Variable[];
}

/** A known value, or undefined for one that is absent or unknown (never guessed). */
function known<T>(v: Value<T> | undefined): T | undefined {
  return v === undefined || isUnknown(v) ? undefined : v;
}

/** A Terraform name from the guest's name: lower-case [a-z0-9_], not starting with a digit, unique. */
function identifierFor(guest: LiveGuest, taken: Set<string>): string {
  let id = guest.name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  if (id === '' || /^[0-9]/.test(id)) id = `${guest.kind === 'lxc' ? 'ct' : 'vm'}_${id || guest.vmid}`;
  if (taken.has(id)) id = `${id}_${guest.vmid}`;
  for (let n = 2; taken.has(id); n++) id = `${id}_${n}`;
  taken.add(id);
  return id;
}

/** Proxmox's size string for GiB: 32 → "32G", 0.5 → "512M" (Telmate takes K/M/G/T suffixes). */
function sizeString(gb: number): string {
  if (Number.isInteger(gb)) return `${gb}G`;
  const mb = gb * 1024;
  return Number.isInteger(mb) ? `${mb}M` : `${Math.round(mb * 1024)}K`;
}

/** `ide2:local` → the cloud-init drive's slot and storage. */
function cloudInitDrive(guest: LiveGuest): { slot: string; storage: string } | undefined {
  const [slot, storage] = (guest.settings?.cloudinit ?? '').split(':');
  return slot && storage ? { slot, storage } : undefined;
}

/** `ip=192.168.1.5/24,gw=192.168.1.1` → its parts, for bpg's `ip_config`. */
function ipConfigParts(text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

const ipConfigKeys = (guest: LiveGuest): string[] =>
  Object.keys(guest.settings ?? {})
    .filter((k) => /^ipconfig\d+$/.test(k))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));

function secretVariable(id: string, guest: LiveGuest, key: string): Variable {
  return { name: `${id}_${key}`, description: `${key} of ${guest.kind === 'lxc' ? 'container' : 'VM'} ${guest.vmid} (${guest.name}); Proxmox does not return it`, sensitive: true };
}

/** What the model could not say, as comments, so the file owns up to it. */
function unknownNotes(guest: LiveGuest): Item[] {
  const notes: Item[] = [];
  for (const [field, v] of Object.entries({ cores: guest.cores, sockets: guest.sockets, memory: guest.memoryMb, onboot: guest.onboot, tags: guest.tags })) {
    if (isUnknown(v)) notes.push(comment(`${field}: unknown (${v.unknown}); not written`));
  }
  return notes;
}

function nicBody(nic: GuestNic, names: { vlan: string }): Item[] {
  const body: Item[] = [];
  const bridge = known(nic.bridge);
  const model = known(nic.model);
  const tag = known(nic.tag);
  const mtu = known(nic.mtu);
  if (bridge !== undefined) body.push(attr('bridge', str(bridge)));
  if (model !== undefined && model !== 'veth') body.push(attr('model', str(model)));
  if (tag !== undefined) body.push(attr(names.vlan, num(tag)));
  if (mtu !== undefined) body.push(attr('mtu', num(mtu)));
  return body;
}

function bpgVm(guest: LiveGuest, id: string): Written {
  const variables: Variable[] = [];
  const s = guest.settings ?? {};
  const top: Item[] = [attr('node_name', str(guest.node)), attr('vm_id', num(guest.vmid)), attr('name', str(guest.name))];
  // bpg defaults on_boot and started to true; Proxmox leaves onboot off: say both, or plan would change them
  top.push(attr('on_boot', bool(known(guest.onboot) ?? false)), attr('started', bool(guest.status === 'running')));
  const tags = known(guest.tags);
  if (tags) top.push(attr('tags', list(tags.map(str))));
  if (s.scsihw) top.push(attr('scsi_hardware', str(s.scsihw)));
  const body: Item[] = [...unknownNotes(guest), ...top];
  const cpu: Item[] = [];
  if (known(guest.cores) !== undefined) cpu.push(attr('cores', num(known(guest.cores)!)));
  if (known(guest.sockets) !== undefined) cpu.push(attr('sockets', num(known(guest.sockets)!)));
  if (s.cpu) cpu.push(attr('type', str(s.cpu.split(',')[0]!)));
  if (cpu.length) body.push(block('cpu', [], cpu));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) body.push(block('memory', [], [attr('dedicated', num(mem))]));
  if (s.ostype) body.push(block('operating_system', [], [attr('type', str(s.ostype))]));
  for (const d of guest.disks) {
    const items: Item[] = [];
    const storage = known(d.storage);
    if (storage !== undefined) items.push(attr('datastore_id', str(storage)));
    items.push(attr('interface', str(d.slot)));
    const gb = known(d.sizeGb);
    if (gb !== undefined && Number.isInteger(gb)) items.push(attr('size', num(gb)));
    const note = gb !== undefined && !Number.isInteger(gb) ? [comment(`${d.slot} is ${sizeString(gb)}; bpg's size is whole GiB, so it is left out: settle it by hand`)] : [];
    body.push(block('disk', [], [...note, ...items]));
  }
  for (const nic of guest.nics) body.push(block('network_device', [], nicBody(nic, { vlan: 'vlan_id' })));
  const init = bpgInitialization(guest, id, variables);
  if (init) body.push(init);
  return { resource: block('resource', ['proxmox_virtual_environment_vm', id], body), address: `proxmox_virtual_environment_vm.${id}`, importId: `${guest.node}/${guest.vmid}`, variables };
}

function bpgInitialization(guest: LiveGuest, id: string, variables: Variable[]): Block | undefined {
  const s = guest.settings ?? {};
  const drive = cloudInitDrive(guest);
  const hasPassword = guest.secrets?.includes('cipassword') ?? false;
  if (!drive && !s.ciuser && !hasPassword && ipConfigKeys(guest).length === 0) return undefined;
  const body: Item[] = [];
  // bpg's default cloud-init datastore is local-lvm: name the one in use
  if (drive) body.push(attr('datastore_id', str(drive.storage)), attr('interface', str(drive.slot)));
  for (const key of ipConfigKeys(guest)) {
    const p = ipConfigParts(s[key]!);
    const v4: Item[] = [];
    if (p.ip) v4.push(attr('address', str(p.ip)));
    if (p.gw) v4.push(attr('gateway', str(p.gw)));
    const v6: Item[] = [];
    if (p.ip6) v6.push(attr('address', str(p.ip6)));
    if (p.gw6) v6.push(attr('gateway', str(p.gw6)));
    const ip: Item[] = [];
    if (v4.length) ip.push(block('ipv4', [], v4));
    if (v6.length) ip.push(block('ipv6', [], v6));
    body.push(block('ip_config', [], ip));
  }
  const account: Item[] = [];
  if (s.ciuser) account.push(attr('username', str(s.ciuser)));
  if (hasPassword) {
    const v = secretVariable(id, guest, 'cipassword');
    variables.push(v);
    account.push(attr('password', ref(`var.${v.name}`)));
  }
  if (account.length) body.push(block('user_account', [], account));
  return block('initialization', [], body);
}

function bpgContainer(guest: LiveGuest, id: string): Written {
  const template: Variable = { name: `${id}_template_file_id`, description: `the OS template container ${guest.vmid} (${guest.name}) was made from, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst; Proxmox does not record it`, sensitive: false };
  const body: Item[] = [...unknownNotes(guest), attr('node_name', str(guest.node)), attr('vm_id', num(guest.vmid))];
  // bpg defaults start_on_boot and started to true; Proxmox leaves onboot off
  body.push(attr('start_on_boot', bool(known(guest.onboot) ?? false)), attr('started', bool(guest.status === 'running')));
  const tags = known(guest.tags);
  if (tags) body.push(attr('tags', list(tags.map(str))));
  body.push(block('initialization', [], [attr('hostname', str(guest.name))]));
  if (known(guest.cores) !== undefined) body.push(block('cpu', [], [attr('cores', num(known(guest.cores)!))]));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) body.push(block('memory', [], [attr('dedicated', num(mem))]));
  for (const d of guest.disks) {
    const storage = known(d.storage);
    const gb = known(d.sizeGb);
    if (d.slot !== 'rootfs') {
      body.push(comment(`${d.slot}${storage ? ` on ${storage}` : ''}: a mount point needs its path inside the container, which labwatch does not read; add a mount_point block`));
      continue;
    }
    const items: Item[] = [];
    if (storage !== undefined) items.push(attr('datastore_id', str(storage)));
    if (gb !== undefined && Number.isInteger(gb)) items.push(attr('size', num(gb)));
    body.push(block('disk', [], items));
  }
  for (const nic of guest.nics) {
    const name = nic.name ? [attr('name', str(nic.name))] : [comment(`${nic.slot}: the interface name inside the container is not known; set name`)];
    body.push(block('network_interface', [], [...name, ...nicBody(nic, { vlan: 'vlan_id' })]));
  }
  body.push(block('operating_system', [], [attr('template_file_id', ref(`var.${template.name}`))]));
  // the template only matters when creating; an imported container has none recorded to compare with
  body.push(block('lifecycle', [], [attr('ignore_changes', list(['operating_system[0].template_file_id']))]));
  return { resource: block('resource', ['proxmox_virtual_environment_container', id], body), address: `proxmox_virtual_environment_container.${id}`, importId: `${guest.node}/${guest.vmid}`, variables: [template] };
}

const BUSES = ['ide', 'sata', 'scsi', 'virtio'] as const;

function telmateVm(guest: LiveGuest, id: string): Written {
  const variables: Variable[] = [];
  const s = guest.settings ?? {};
  const top: Item[] = [attr('name', str(guest.name)), attr('target_node', str(guest.node)), attr('vmid', num(guest.vmid))];
  // Telmate 3.x: onboot defaults to false, vm_state to "running": say both as they are
  top.push(attr('onboot', bool(known(guest.onboot) ?? false)), attr('vm_state', str(guest.status === 'running' ? 'running' : 'stopped')));
  const tags = known(guest.tags);
  if (tags?.length) top.push(attr('tags', str(tags.join(','))));
  if (known(guest.cores) !== undefined) top.push(attr('cores', num(known(guest.cores)!)));
  if (known(guest.sockets) !== undefined) top.push(attr('sockets', num(known(guest.sockets)!)));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) top.push(attr('memory', num(mem)));
  // Telmate's scsihw default is lsi, Proxmox's new-VM default virtio-scsi-pci: always say which
  if (s.scsihw) top.push(attr('scsihw', str(s.scsihw)));
  if (s.ostype) top.push(attr('qemu_os', str(s.ostype)));
  if (s.ciuser) top.push(attr('ciuser', str(s.ciuser)));
  if (guest.secrets?.includes('cipassword')) {
    const v = secretVariable(id, guest, 'cipassword');
    variables.push(v);
    top.push(attr('cipassword', ref(`var.${v.name}`)));
  }
  for (const key of ipConfigKeys(guest)) top.push(attr(key, str(s[key]!)));
  const body: Item[] = [...unknownNotes(guest), ...top];
  if (s.cpu && s.cpu.split(',')[0] !== 'host') {
    body.push(comment(`CPU type ${s.cpu.split(',')[0]}: Telmate names it cpu (3.0.0), cpu_type or cpu { type } (later 3.x); add the one your version takes`));
  }
  const drive = cloudInitDrive(guest);
  const buses: Item[] = [];
  for (const bus of BUSES) {
    const slots: Item[] = [];
    if (drive?.slot.startsWith(bus)) slots.push(block(drive.slot, [], [block('cloudinit', [], [attr('storage', str(drive.storage))])]));
    for (const d of guest.disks.filter((x) => x.slot.startsWith(bus))) {
      const items: Item[] = [];
      const storage = known(d.storage);
      const gb = known(d.sizeGb);
      if (storage !== undefined) items.push(attr('storage', str(storage)));
      if (gb !== undefined) items.push(attr('size', str(sizeString(gb))));
      slots.push(block(d.slot, [], [block('disk', [], items)]));
    }
    if (slots.length) buses.push(block(bus, [], slots));
  }
  if (buses.length) body.push(block('disks', [], buses));
  guest.nics.forEach((nic, i) => {
    const n = Number(nic.slot.replace(/^net/, ''));
    body.push(block('network', [], [attr('id', num(Number.isInteger(n) ? n : i)), ...nicBody(nic, { vlan: 'tag' })]));
  });
  return { resource: block('resource', ['proxmox_vm_qemu', id], body), address: `proxmox_vm_qemu.${id}`, importId: `${guest.node}/qemu/${guest.vmid}`, variables };
}

function telmateContainer(guest: LiveGuest, id: string): Written {
  const body: Item[] = [...unknownNotes(guest), attr('target_node', str(guest.node)), attr('vmid', num(guest.vmid)), attr('hostname', str(guest.name))];
  body.push(attr('onboot', bool(known(guest.onboot) ?? false)));
  const tags = known(guest.tags);
  if (tags?.length) body.push(attr('tags', str(tags.join(';'))));
  if (known(guest.cores) !== undefined) body.push(attr('cores', num(known(guest.cores)!)));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) body.push(attr('memory', num(mem)));
  for (const d of guest.disks) {
    const storage = known(d.storage);
    const gb = known(d.sizeGb);
    if (d.slot !== 'rootfs') {
      body.push(comment(`${d.slot}${storage ? ` on ${storage}` : ''}: a mountpoint needs its path inside the container (mp), which labwatch does not read; add it by hand`));
      continue;
    }
    const items: Item[] = [];
    if (storage !== undefined) items.push(attr('storage', str(storage)));
    if (gb !== undefined) items.push(attr('size', str(sizeString(gb))));
    body.push(block('rootfs', [], items));
  }
  for (const nic of guest.nics) {
    const name = nic.name ? [attr('name', str(nic.name))] : [comment(`${nic.slot}: the interface name inside the container is not known; set name`)];
    body.push(block('network', [], [...name, ...nicBody(nic, { vlan: 'tag' })]));
  }
  return { resource: block('resource', ['proxmox_lxc', id], body), address: `proxmox_lxc.${id}`, importId: `${guest.node}/lxc/${guest.vmid}`, variables: [] };
}

/**
 * Terraform for these guests, one resource and one import block each, in the given provider's
 * resources; `variables` names the variables the user must set (sensitive ones for secrets).
 */
export function generateTerraform(guests: LiveGuest[], provider: Provider): { text: string; variables: string[] } {
  const taken = new Set<string>();
  const items: Item[] = [
    comment(`Written by labwatch from the live Proxmox config. Settings labwatch does not read keep`),
    comment(`their provider defaults: run terraform plan and settle any change it shows before apply.`),
    block('terraform', [], [block('required_providers', [], [attr('proxmox', `{\n      source = ${str(SOURCE[provider])}\n    }`)])]),
  ];
  const variables: Variable[] = [];
  for (const guest of [...guests].sort((a, b) => a.vmid - b.vmid)) {
    const id = identifierFor(guest, taken);
    const w = provider === 'bpg' ? (guest.kind === 'lxc' ? bpgContainer(guest, id) : bpgVm(guest, id)) : guest.kind === 'lxc' ? telmateContainer(guest, id) : telmateVm(guest, id);
    items.push(w.resource, block('import', [], [attr('to', ref(w.address)), attr('id', str(w.importId))]));
    variables.push(...w.variables);
  }
  for (const v of variables) {
    const body: Item[] = [attr('description', str(v.description)), attr('type', 'string')];
    if (v.sensitive) body.push(attr('sensitive', 'true'));
    items.push(block('variable', [v.name], body));
  }
  return { text: writeFile(items), variables: variables.map((v) => v.name) };
}
