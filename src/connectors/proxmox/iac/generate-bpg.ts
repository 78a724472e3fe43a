/**
 * bpg/proxmox resources written from a live guest. Attribute names as in bpg's
 * docs/resources/virtual_environment_vm.md (commit 014b59e04f30fc08bc512f68cf471fe2cfdc481c) and
 * virtual_environment_container.md (commit 03f20799029b56ab0d9d0e096e8890f0d61780d8); a passed-through
 * disk as `datastore_id = ""` + `path_in_datastore` per the docs' path_in_datastore entry ("host's
 * filesystem paths (datastore_id empty string)") and bpg issue #473.
 */
import type { LiveGuest } from './model.ts';
import { type Block, type Item, attr, block, bool, comment, list, num, ref, str } from './write-hcl.ts';
import {
  type Variable,
  type Written,
  cloudInitDrive,
  diskOptions,
  features,
  ipConfigKeys,
  isOn,
  known,
  nicBody,
  secretVariable,
  setting,
  sizeString,
  swapMb,
  unknownNotes,
} from './generate-parts.ts';

/** `ip=192.168.1.5/24,gw=192.168.1.1` → its parts, for bpg's `ip_config`. */
function ipConfigParts(text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** bpg: `tags` defaults to []; an empty list is left out rather than written. */
function tagsAttr(guest: LiveGuest): Item[] {
  const tags = known(guest.tags);
  return tags?.length ? [attr('tags', list(tags.map(str)))] : [];
}

function vmDisk(guest: LiveGuest, d: LiveGuest['disks'][number]): Item {
  const items: Item[] = [];
  const notes: Item[] = [];
  const path = known(d.path);
  const storage = known(d.storage);
  const gb = known(d.sizeGb);
  // a disk block without its datastore would take bpg's local-lvm default
  if (path === undefined && storage === undefined) return comment(`${d.slot}: its storage is not known; add its disk block by hand`);
  if (path !== undefined) {
    notes.push(comment(`${d.slot} is passed through from the host; if plan shows size or file_format changes for it, add them to lifecycle ignore_changes (bpg issue #473)`));
    items.push(attr('datastore_id', str('')), attr('path_in_datastore', str(path)), attr('file_format', str('raw')));
  } else if (storage !== undefined) items.push(attr('datastore_id', str(storage)));
  items.push(attr('interface', str(d.slot)));
  if (gb !== undefined && Number.isInteger(gb)) items.push(attr('size', num(gb)));
  else if (gb !== undefined) notes.push(comment(`${d.slot} is ${sizeString(gb)}; bpg's size is whole GiB, so it is left out: settle it by hand`));
  const o = diskOptions(guest, d.slot);
  if (o.iothread !== undefined) items.push(attr('iothread', bool(o.iothread)));
  if (o.discard !== undefined) items.push(attr('discard', str(o.discard)));
  if (o.ssd !== undefined) items.push(attr('ssd', bool(o.ssd)));
  if (o.cache !== undefined) items.push(attr('cache', str(o.cache)));
  if (o.backup !== undefined) items.push(attr('backup', bool(o.backup)));
  return block('disk', [], [...notes, ...items]);
}

/** bios = ovmf needs its EFI vars disk, else the guest does not boot after an apply. */
function efiDisk(guest: LiveGuest): Item[] {
  const storage = setting(guest, 'efidisk0:storage');
  if (!storage) return setting(guest, 'bios') === 'ovmf' ? [comment('bios is ovmf but Proxmox shows no efidisk0: add an efi_disk block if the guest needs one')] : [];
  const items: Item[] = [attr('datastore_id', str(storage))];
  // qm.conf: efitype defaults to 2m, as bpg's `type` does
  items.push(attr('type', str(setting(guest, 'efidisk0:efitype') ?? '2m')));
  items.push(attr('pre_enrolled_keys', bool(isOn(setting(guest, 'efidisk0:pre-enrolled-keys')))));
  return [block('efi_disk', [], items)];
}

export function bpgVm(guest: LiveGuest, id: string): Written {
  const variables: Variable[] = [];
  const top: Item[] = [attr('node_name', str(guest.node)), attr('vm_id', num(guest.vmid)), attr('name', str(guest.name))];
  // bpg defaults on_boot and started to true; Proxmox leaves onboot off: say both, or plan would change them
  top.push(attr('on_boot', bool(known(guest.onboot) ?? false)), attr('started', bool(guest.status === 'running')));
  top.push(...tagsAttr(guest));
  for (const [key, name] of [['scsihw', 'scsi_hardware'], ['bios', 'bios'], ['machine', 'machine']] as const) {
    const v = setting(guest, key);
    if (v) top.push(attr(name, str(v)));
  }
  const body: Item[] = [...unknownNotes(guest), ...top];
  const agent = setting(guest, 'agent');
  if (agent !== undefined) body.push(block('agent', [], [attr('enabled', bool(isOn(agent)))]));
  const cpu: Item[] = [];
  if (known(guest.cores) !== undefined) cpu.push(attr('cores', num(known(guest.cores)!)));
  if (known(guest.sockets) !== undefined) cpu.push(attr('sockets', num(known(guest.sockets)!)));
  const cpuType = setting(guest, 'cpu');
  if (cpuType) cpu.push(attr('type', str(cpuType.split(',')[0]!)));
  if (cpu.length) body.push(block('cpu', [], cpu));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) body.push(block('memory', [], [attr('dedicated', num(mem))]));
  const ostype = setting(guest, 'ostype');
  if (ostype) body.push(block('operating_system', [], [attr('type', str(ostype))]));
  body.push(...efiDisk(guest));
  for (const d of guest.disks) body.push(vmDisk(guest, d));
  for (const nic of guest.nics) body.push(block('network_device', [], nicBody(guest, nic, { vlan: 'vlan_id' })));
  const init = initialization(guest, id, variables);
  if (init) body.push(init);
  return { resource: block('resource', ['proxmox_virtual_environment_vm', id], body), address: `proxmox_virtual_environment_vm.${id}`, importId: `${guest.node}/${guest.vmid}`, variables };
}

function initialization(guest: LiveGuest, id: string, variables: Variable[]): Block | undefined {
  const drive = cloudInitDrive(guest);
  const ciuser = setting(guest, 'ciuser');
  const hasPassword = guest.secrets?.includes('cipassword') ?? false;
  if (!drive && !ciuser && !hasPassword && ipConfigKeys(guest).length === 0) return undefined;
  const body: Item[] = [];
  // bpg's default cloud-init datastore is local-lvm: name the one in use
  if (drive) body.push(attr('datastore_id', str(drive.storage)), attr('interface', str(drive.slot)));
  for (const key of ipConfigKeys(guest)) {
    const p = ipConfigParts(setting(guest, key)!);
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
  if (ciuser) account.push(attr('username', str(ciuser)));
  if (hasPassword) {
    const v = secretVariable(id, guest, 'cipassword');
    variables.push(v);
    account.push(attr('password', ref(`var.${v.name}`)));
  }
  if (account.length) body.push(block('user_account', [], account));
  return block('initialization', [], body);
}

function containerFeatures(guest: LiveGuest): Item[] {
  const f = features(guest);
  const items: Item[] = [];
  for (const flag of ['nesting', 'fuse', 'keyctl'] as const) if (f[flag] !== undefined) items.push(attr(flag, bool(isOn(f[flag]))));
  if (f.mount) items.push(attr('mount', list(f.mount.split(';').filter(Boolean).map(str))));
  const other = Object.keys(f).filter((k) => !['nesting', 'fuse', 'keyctl', 'mount'].includes(k));
  return [...(other.length ? [comment(`features ${other.join(', ')}: bpg has no attribute for them; plan will not show them`)] : []), ...(items.length ? [block('features', [], items)] : [])];
}

/** A mount point: a volume on a storage, or a bind mount of a host path (`mp1: /tank/media,mp=/data`). */
function mountPoint(d: LiveGuest['disks'][number]): Item {
  const path = known(d.path);
  const storage = known(d.storage);
  const inside = known(d.mountpoint);
  const gb = known(d.sizeGb);
  if (inside === undefined) return comment(`${d.slot}: its path inside the container is not known; add a mount_point block by hand`);
  const items: Item[] = [attr('volume', str(path ?? storage ?? '')), attr('path', str(inside))];
  if (path === undefined && gb !== undefined) items.push(attr('size', str(sizeString(gb))));
  return block('mount_point', [], items);
}

export function bpgContainer(guest: LiveGuest, id: string): Written {
  const template: Variable = { name: `${id}_template_file_id`, description: `the OS template container ${guest.vmid} (${guest.name}) was made from, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst; Proxmox does not record it`, sensitive: false };
  const body: Item[] = [...unknownNotes(guest), attr('node_name', str(guest.node)), attr('vm_id', num(guest.vmid))];
  // bpg defaults start_on_boot and started to true; Proxmox leaves onboot off
  body.push(attr('start_on_boot', bool(known(guest.onboot) ?? false)), attr('started', bool(guest.status === 'running')));
  // ForceNew in bpg, default false: leaving it out would replace every unprivileged container
  body.push(attr('unprivileged', bool(isOn(setting(guest, 'unprivileged')))));
  body.push(...tagsAttr(guest));
  body.push(block('initialization', [], [attr('hostname', str(guest.name))]));
  if (known(guest.cores) !== undefined) body.push(block('cpu', [], [attr('cores', num(known(guest.cores)!))]));
  const mem = known(guest.memoryMb);
  body.push(block('memory', [], [...(mem !== undefined ? [attr('dedicated', num(mem))] : []), attr('swap', num(swapMb(guest)))]));
  body.push(...containerFeatures(guest));
  for (const d of guest.disks) {
    if (d.slot !== 'rootfs') {
      body.push(mountPoint(d));
      continue;
    }
    const storage = known(d.storage);
    const gb = known(d.sizeGb);
    const items: Item[] = [];
    if (storage !== undefined) items.push(attr('datastore_id', str(storage)));
    if (gb !== undefined && Number.isInteger(gb)) items.push(attr('size', num(gb)));
    body.push(block('disk', [], items));
  }
  for (const nic of guest.nics) {
    const name = nic.name ? [attr('name', str(nic.name))] : [comment(`${nic.slot}: the interface name inside the container is not known; set name`)];
    body.push(block('network_interface', [], [...name, ...nicBody(guest, nic, { vlan: 'vlan_id' })]));
  }
  body.push(block('operating_system', [], [attr('template_file_id', ref(`var.${template.name}`))]));
  // the template only matters when creating; an imported container has none recorded to compare with
  body.push(block('lifecycle', [], [attr('ignore_changes', list(['operating_system[0].template_file_id']))]));
  return { resource: block('resource', ['proxmox_virtual_environment_container', id], body), address: `proxmox_virtual_environment_container.${id}`, importId: `${guest.node}/${guest.vmid}`, variables: [template] };
}
