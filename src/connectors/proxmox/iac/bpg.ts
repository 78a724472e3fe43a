/**
 * bpg/proxmox resources as guests: `proxmox_virtual_environment_vm` and `_container`. Attribute names as in
 * the provider's docs/resources/virtual_environment_vm.md and its example/ files.
 *
 * Defaults: for a VM the provider documents and writes its own defaults on create (memory.dedicated 512,
 * cpu.cores 1, cpu.sockets 1, on_boot true, network_device bridge vmbr0 / model virtio, disk datastore_id
 * local-lvm / size 8), so `terraform plan` holds the live VM to them: they are the declared values when the
 * code leaves them out. Not for a clone (the template's values are kept) and not for containers, whose
 * defaults labwatch has not checked.
 */
import type { DeclaredGuest, GuestDisk, GuestNic, Value } from './model.ts';
import type { Resolved } from './hcl.ts';
import { blocks, bool, defined, dynamicUnknown, num, sizeGb, str, tags, vlanTag, vmid } from './values.ts';

export const BPG_TYPES = new Set(['proxmox_virtual_environment_vm', 'proxmox_virtual_environment_container']);

type Obj = { [key: string]: Resolved };
type Where = DeclaredGuest['where'];

export function guestFromBpg(type: string, r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  return type === 'proxmox_virtual_environment_container' ? container(r, where, dynamic) : vm(r, where, dynamic);
}

const or = <T>(v: Value<T> | undefined, fallback: T | undefined): Value<T> | undefined => (v === undefined ? fallback : v);

function vm(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  const d = blocks(r.clone).length === 0; // provider defaults apply
  const cpu = blocks(r.cpu)[0] ?? {};
  const memory = blocks(r.memory)[0] ?? {};
  const disks: GuestDisk[] = blocks(r.disk).map((disk, i) => defined({
    slot: typeof disk.interface === 'string' ? disk.interface : `disk ${i + 1} (interface not stated)`,
    storage: or(str(disk.datastore_id, 'disk datastore_id'), d ? 'local-lvm' : undefined),
    sizeGb: or(sizeGb(disk.size, 'disk size'), d ? 8 : undefined),
  }));
  if (dynamic.has('disk')) disks.push({ slot: 'disk (dynamic)', storage: dynamicUnknown('disk'), sizeGb: dynamicUnknown('disk') });
  const nics: GuestNic[] = blocks(r.network_device).map((n, i) => defined({
    slot: `net${i}`,
    bridge: or(str(n.bridge, 'network_device bridge'), d ? 'vmbr0' : undefined),
    model: or(str(n.model, 'network_device model'), d ? 'virtio' : undefined),
    tag: vlanTag(n.vlan_id, 'network_device vlan_id'),
    mtu: num(n.mtu, 'network_device mtu'),
  }));
  if (dynamic.has('network_device')) nics.push({ slot: 'network_device (dynamic)', bridge: dynamicUnknown('network_device') });
  return defined({
    provider: 'bpg' as const,
    kind: 'qemu' as const,
    where,
    vmid: vmid(r.vm_id, 'vm_id'),
    name: str(r.name, 'name'),
    node: str(r.node_name, 'node_name'),
    cores: or(num(cpu.cores, 'cpu cores'), d ? 1 : undefined),
    sockets: or(num(cpu.sockets, 'cpu sockets'), d ? 1 : undefined),
    memoryMb: or(num(memory.dedicated, 'memory dedicated'), d ? 512 : undefined),
    onboot: or(bool(r.on_boot, 'on_boot'), d ? true : undefined),
    tags: tags(r.tags, 'tags'),
    disks,
    nics,
  });
}

function container(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  const init = blocks(r.initialization)[0] ?? {};
  const disks: GuestDisk[] = blocks(r.disk).slice(0, 1).map((disk) => defined({
    slot: 'rootfs', storage: str(disk.datastore_id, 'disk datastore_id'), sizeGb: sizeGb(disk.size, 'disk size'),
  }));
  blocks(r.mount_point).forEach((m, i) => disks.push(defined({
    slot: `mp${i}`, storage: str(m.volume, 'mount_point volume'), sizeGb: sizeGb(m.size, 'mount_point size'),
  })));
  if (dynamic.has('mount_point')) disks.push({ slot: 'mount_point (dynamic)', storage: dynamicUnknown('mount_point'), sizeGb: dynamicUnknown('mount_point') });
  const nics: GuestNic[] = blocks(r.network_interface).map((n, i) => defined({
    slot: `net${i}`, bridge: str(n.bridge, 'network_interface bridge'), tag: vlanTag(n.vlan_id, 'network_interface vlan_id'), mtu: num(n.mtu, 'network_interface mtu'),
  }));
  if (dynamic.has('network_interface')) nics.push({ slot: 'network_interface (dynamic)', bridge: dynamicUnknown('network_interface') });
  return defined({
    provider: 'bpg' as const,
    kind: 'lxc' as const,
    where,
    vmid: vmid(r.vm_id, 'vm_id'),
    name: str(init.hostname, 'initialization hostname'),
    node: str(r.node_name, 'node_name'),
    cores: num((blocks(r.cpu)[0] ?? {}).cores, 'cpu cores'),
    memoryMb: num((blocks(r.memory)[0] ?? {}).dedicated, 'memory dedicated'),
    onboot: bool(r.start_on_boot, 'start_on_boot'),
    tags: tags(r.tags, 'tags'),
    disks,
    nics,
  });
}
