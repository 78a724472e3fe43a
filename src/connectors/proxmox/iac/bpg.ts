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
import { blocks, bool, defined, dynamicDisk, dynamicNic, num, sizeGb, str, tags, vlanTag, vmid } from './values.ts';

export const BPG_TYPES = new Set(['proxmox_virtual_environment_vm', 'proxmox_virtual_environment_container']);

type Obj = { [key: string]: Resolved };
type Where = DeclaredGuest['where'];

export function guestFromBpg(type: string, r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  return type === 'proxmox_virtual_environment_container' ? container(r, where, dynamic) : vm(r, where, dynamic);
}

const or = <T>(v: Value<T> | undefined, fallback: T | undefined): Value<T> | undefined => (v === undefined ? fallback : v);

/**
 * A VM disk. `path_in_datastore` with `datastore_id = ""` is a disk passed through from the host
 * (`/dev/disk/by-id/…`, the provider's docs): its path, no storage and no size of the provider's defaults.
 * With a datastore it names the volume there, and the disk is an ordinary one.
 */
function vmDisk(disk: Obj, i: number, defaults: boolean): GuestDisk {
  const slot = typeof disk.interface === 'string' ? disk.interface : `disk ${i + 1} (interface not stated)`;
  const path = disk.path_in_datastore;
  if (typeof path === 'string' && (disk.datastore_id === '' || path.startsWith('/'))) {
    return defined({ slot, path, sizeGb: sizeGb(disk.size, `${slot} size`) });
  }
  return defined({
    slot,
    storage: or(str(disk.datastore_id, `${slot} datastore_id`), defaults ? 'local-lvm' : undefined),
    sizeGb: or(sizeGb(disk.size, `${slot} size`), defaults ? 8 : undefined),
  });
}

/** A container mount point: a volume on a datastore, or a bind mount when `volume` is a host path; `path` is where it appears inside. */
function mountPoint(m: Obj, i: number): GuestDisk {
  const slot = `mp${i}`;
  const inside = str(m.path, `${slot} path`);
  if (typeof m.volume === 'string' && m.volume.startsWith('/')) return defined({ slot, path: m.volume, mountpoint: inside });
  return defined({ slot, storage: str(m.volume, `${slot} volume`), sizeGb: sizeGb(m.size, `${slot} size`), mountpoint: inside });
}

function vm(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  const d = blocks(r.clone).length === 0; // provider defaults apply
  const cpu = blocks(r.cpu)[0] ?? {};
  const memory = blocks(r.memory)[0] ?? {};
  const disks: GuestDisk[] = blocks(r.disk).map((disk, i) => vmDisk(disk, i, d));
  if (dynamic.has('disk')) disks.push(dynamicDisk('disk'));
  const nics: GuestNic[] = blocks(r.network_device).map((n, i) => defined({
    slot: `net${i}`,
    bridge: or(str(n.bridge, 'network_device bridge'), d ? 'vmbr0' : undefined),
    model: or(str(n.model, 'network_device model'), d ? 'virtio' : undefined),
    tag: vlanTag(n.vlan_id, 'network_device vlan_id'),
    mtu: num(n.mtu, 'network_device mtu'),
  }));
  if (dynamic.has('network_device')) nics.push(dynamicNic('network_device'));
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
  blocks(r.mount_point).forEach((m, i) => disks.push(mountPoint(m, i)));
  if (dynamic.has('mount_point')) disks.push(dynamicDisk('mount_point', true));
  const nics: GuestNic[] = blocks(r.network_interface).map((n, i) => defined({
    slot: `net${i}`, bridge: str(n.bridge, 'network_interface bridge'), tag: vlanTag(n.vlan_id, 'network_interface vlan_id'), mtu: num(n.mtu, 'network_interface mtu'),
  }));
  if (dynamic.has('network_interface')) nics.push(dynamicNic('network_interface'));
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
