/**
 * telmate/proxmox 3.x resources written from a live guest. Attribute names as in Telmate's
 * docs/resources/vm_qemu.md (commit 2c79199642a6ef1045546371a903ad1c1dc0d6fd: `disks` with `disk` and
 * `passthrough { file }` slots, disk `iothread`/`discard`/`emulatessd`/`cache`, `efidisk { efitype storage }`,
 * network `firewall`, `agent`, `bios`), its schema proxmox/resource_vm_qemu.go (commit
 * 000d4ba0111573145502516928aec4a3e600fe7e: `machine`; efidisk `efitype` defaults to 4m) and
 * proxmox/resource_lxc.go (commit 015f245b10abc4777ed7f5bb05b9222dc5c87a3d: `unprivileged` and `swap`
 * default false/0, `features`, `mountpoint { key slot mp storage volume size }`), with docs/resources/lxc.md's
 * bind-mount example (storage and volume both the host path).
 */
import type { LiveGuest } from './model.ts';
import { type Item, attr, block, bool, comment, num, ref, str } from './write-hcl.ts';
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

const BUSES = ['ide', 'sata', 'scsi', 'virtio'] as const;

/** The options a `disk` or `passthrough` block shares (emulatessd only where Telmate allows it: not virtio). */
function diskItems(guest: LiveGuest, slot: string): Item[] {
  const o = diskOptions(guest, slot);
  const items: Item[] = [];
  if (o.backup !== undefined) items.push(attr('backup', bool(o.backup)));
  if (o.cache !== undefined) items.push(attr('cache', str(o.cache)));
  if (o.discard !== undefined) items.push(attr('discard', bool(isOn(o.discard))));
  if (o.ssd !== undefined && !slot.startsWith('virtio')) items.push(attr('emulatessd', bool(o.ssd)));
  if (o.iothread !== undefined && /^(scsi|virtio)/.test(slot)) items.push(attr('iothread', bool(o.iothread)));
  return items;
}

function disks(guest: LiveGuest): Item[] {
  const drive = cloudInitDrive(guest);
  const buses: Item[] = [];
  for (const bus of BUSES) {
    const slots: Item[] = [];
    if (drive?.slot.startsWith(bus)) slots.push(block(drive.slot, [], [block('cloudinit', [], [attr('storage', str(drive.storage))])]));
    for (const d of guest.disks.filter((x) => x.slot.startsWith(bus))) {
      const path = known(d.path);
      const storage = known(d.storage);
      const gb = known(d.sizeGb);
      if (path !== undefined) {
        // Telmate computes a passthrough disk's size itself
        slots.push(block(d.slot, [], [block('passthrough', [], [attr('file', str(path)), ...diskItems(guest, d.slot)])]));
        continue;
      }
      if (storage === undefined || gb === undefined) {
        slots.push(comment(`${d.slot}: its storage or size is not known; add its disk block by hand`));
        continue;
      }
      slots.push(block(d.slot, [], [block('disk', [], [attr('storage', str(storage)), attr('size', str(sizeString(gb))), ...diskItems(guest, d.slot)])]));
    }
    if (slots.length) buses.push(block(bus, [], slots));
  }
  return buses.length ? [block('disks', [], buses)] : [];
}

function efiDisk(guest: LiveGuest): Item[] {
  const storage = setting(guest, 'efidisk0:storage');
  if (!storage) return setting(guest, 'bios') === 'ovmf' ? [comment('bios is ovmf but Proxmox shows no efidisk0: add an efidisk block if the guest needs one')] : [];
  // Telmate's efitype default is 4m, qm.conf's 2m: always say which
  const notes = isOn(setting(guest, 'efidisk0:pre-enrolled-keys')) ? [] : [comment('efidisk0 has no pre-enrolled keys; Telmate has no attribute for that, so plan may show a change')];
  return [...notes, block('efidisk', [], [attr('efitype', str(setting(guest, 'efidisk0:efitype') ?? '2m')), attr('storage', str(storage))])];
}

export function telmateVm(guest: LiveGuest, id: string): Written {
  const variables: Variable[] = [];
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
  for (const [key, name] of [['scsihw', 'scsihw'], ['bios', 'bios'], ['machine', 'machine'], ['ostype', 'qemu_os'], ['ciuser', 'ciuser']] as const) {
    const v = setting(guest, key);
    if (v) top.push(attr(name, str(v)));
  }
  const agent = setting(guest, 'agent');
  if (agent !== undefined) top.push(attr('agent', num(isOn(agent) ? 1 : 0)));
  if (guest.secrets?.includes('cipassword')) {
    const v = secretVariable(id, guest, 'cipassword');
    variables.push(v);
    top.push(attr('cipassword', ref(`var.${v.name}`)));
  }
  for (const key of ipConfigKeys(guest)) top.push(attr(key, str(setting(guest, key)!)));
  const body: Item[] = [...unknownNotes(guest), ...top];
  const cpu = setting(guest, 'cpu')?.split(',')[0];
  if (cpu && cpu !== 'host') body.push(comment(`CPU type ${cpu}: Telmate names it cpu (3.0.0), cpu_type or cpu { type } (later 3.x); add the one your version takes`));
  body.push(...efiDisk(guest), ...disks(guest));
  guest.nics.forEach((nic, i) => {
    const n = Number(nic.slot.replace(/^net/, ''));
    body.push(block('network', [], [attr('id', num(Number.isInteger(n) ? n : i)), ...nicBody(guest, nic, { vlan: 'tag' })]));
  });
  return { resource: block('resource', ['proxmox_vm_qemu', id], body), address: `proxmox_vm_qemu.${id}`, importId: `${guest.node}/qemu/${guest.vmid}`, variables };
}

function containerFeatures(guest: LiveGuest): Item[] {
  const f = features(guest);
  const items: Item[] = [];
  for (const flag of ['fuse', 'keyctl', 'mknod', 'nesting'] as const) if (f[flag] !== undefined) items.push(attr(flag, bool(isOn(f[flag]))));
  if (f.mount) items.push(attr('mount', str(f.mount)));
  return items.length ? [block('features', [], items)] : [];
}

/** `mp1: /tank/media,mp=/data` → a bind mount: storage and volume both the host path, as lxc.md's example. */
function mountPoint(d: LiveGuest['disks'][number]): Item {
  const n = Number(d.slot.slice(2));
  const path = known(d.path);
  const storage = known(d.storage);
  const inside = known(d.mountpoint);
  const gb = known(d.sizeGb);
  if (inside === undefined || (path === undefined && storage === undefined)) return comment(`${d.slot}: its storage or path inside the container is not known; add its mountpoint block by hand`);
  const items: Item[] = [attr('key', str(String(n))), attr('slot', num(n)), attr('storage', str(path ?? storage!))];
  if (path !== undefined) items.push(attr('volume', str(path)));
  items.push(attr('mp', str(inside)));
  if (gb !== undefined) items.push(attr('size', str(sizeString(gb))));
  return block('mountpoint', [], items);
}

export function telmateContainer(guest: LiveGuest, id: string): Written {
  const body: Item[] = [...unknownNotes(guest), attr('target_node', str(guest.node)), attr('vmid', num(guest.vmid)), attr('hostname', str(guest.name))];
  body.push(attr('onboot', bool(known(guest.onboot) ?? false)));
  // Telmate defaults unprivileged to false and swap to 0; Proxmox's CTs are mostly unprivileged with 512 MiB swap
  body.push(attr('unprivileged', bool(isOn(setting(guest, 'unprivileged')))), attr('swap', num(swapMb(guest))));
  const tags = known(guest.tags);
  if (tags?.length) body.push(attr('tags', str(tags.join(';'))));
  if (known(guest.cores) !== undefined) body.push(attr('cores', num(known(guest.cores)!)));
  const mem = known(guest.memoryMb);
  if (mem !== undefined) body.push(attr('memory', num(mem)));
  body.push(...containerFeatures(guest));
  for (const d of guest.disks) {
    if (d.slot !== 'rootfs') {
      body.push(mountPoint(d));
      continue;
    }
    const storage = known(d.storage);
    const gb = known(d.sizeGb);
    const items: Item[] = [];
    if (storage !== undefined) items.push(attr('storage', str(storage)));
    if (gb !== undefined) items.push(attr('size', str(sizeString(gb))));
    body.push(block('rootfs', [], items));
  }
  for (const nic of guest.nics) {
    const name = nic.name ? [attr('name', str(nic.name))] : [comment(`${nic.slot}: the interface name inside the container is not known; set name`)];
    body.push(block('network', [], [...name, ...nicBody(guest, nic, { vlan: 'tag' })]));
  }
  return { resource: block('resource', ['proxmox_lxc', id], body), address: `proxmox_lxc.${id}`, importId: `${guest.node}/lxc/${guest.vmid}`, variables: [] };
}
