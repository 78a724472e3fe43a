/**
 * Telmate/proxmox resources as guests: `proxmox_vm_qemu` (2.x `disk {type storage size}` blocks and 3.x
 * `disks { scsi { scsi0 { disk { … } } } }`, top-level cores/sockets or the newer `cpu { cores sockets }`) and
 * `proxmox_lxc`. Attribute names as in the provider's docs/resources/vm_qemu.md and lxc.md and its schema
 * (proxmox/Internal/resource/guest/qemu/network/schema.go: network `id`, `mtu`, `tag`).
 *
 * The provider's own defaults (memory 512, cores 1, onboot true in 2.x but false in 3.x) differ between
 * versions, so a field the code leaves out stays "not stated" rather than taking a default.
 */
import type { DeclaredGuest, GuestDisk, GuestNic } from './model.ts';
import type { Resolved } from './hcl.ts';
import { blocks, bool, defined, dynamicUnknown, num, sizeGb, str, tags, vlanTag, vmid } from './values.ts';

export const TELMATE_TYPES = new Set(['proxmox_vm_qemu', 'proxmox_lxc']);

type Obj = { [key: string]: Resolved };
type Where = DeclaredGuest['where'];

export function guestFromTelmate(type: string, r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  return type === 'proxmox_lxc' ? lxc(r, where, dynamic) : qemu(r, where, dynamic);
}

const BUSES = ['ide', 'sata', 'scsi', 'virtio'];

function qemu(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  // 3.x moved cores/sockets into a cpu block; in 2.x `cpu` is the CPU type string.
  const cpu = blocks(r.cpu)[0] ?? {};
  return defined({
    provider: 'telmate' as const,
    kind: 'qemu' as const,
    where,
    vmid: vmid(r.vmid, 'vmid'),
    name: str(r.name, 'name'),
    node: str(r.target_node, 'target_node'),
    cores: num(cpu.cores ?? r.cores, 'cores'),
    sockets: num(cpu.sockets ?? r.sockets, 'sockets'),
    memoryMb: num(r.memory, 'memory'),
    onboot: bool(r.onboot, 'onboot'),
    tags: tags(r.tags, 'tags'),
    disks: [...legacyDisks(r.disk), ...newDisks(r.disks), ...dynamicDisks(dynamic, ['disk', 'disks'])],
    nics: [...qemuNics(r.network), ...(dynamic.has('network') ? [{ slot: 'network (dynamic)', bridge: dynamicUnknown('network') }] : [])],
  });
}

/** 2.x: one `disk` block per disk, numbered per bus in the order written (the docs' example: scsi0, ide0, scsi1). */
function legacyDisks(v: Resolved | undefined): GuestDisk[] {
  const next: Record<string, number> = {};
  const out: GuestDisk[] = [];
  for (const d of blocks(v)) {
    if (d.media === 'cdrom') continue;
    const bus = typeof d.type === 'string' ? d.type : 'disk';
    const index = typeof d.slot === 'number' ? d.slot : (next[bus] ?? 0);
    next[bus] = Math.max(next[bus] ?? 0, index + 1);
    out.push(defined({ slot: `${bus}${index}`, storage: str(d.storage, 'disk storage'), sizeGb: sizeGb(d.size, 'disk size') }));
  }
  return out;
}

/** 3.x: `disks { <bus> { <slot> { disk {…} } } }`; cdrom, cloudinit and passthrough slots are not disks to compare. */
function newDisks(v: Resolved | undefined): GuestDisk[] {
  const out: GuestDisk[] = [];
  for (const disks of blocks(v)) {
    for (const bus of BUSES) {
      for (const slots of blocks(disks[bus])) {
        for (const [slot, value] of Object.entries(slots)) {
          for (const holder of blocks(value)) {
            for (const d of blocks(holder.disk)) {
              out.push(defined({ slot, storage: str(d.storage, `${slot} storage`), sizeGb: sizeGb(d.size, `${slot} size`) }));
            }
          }
        }
      }
    }
  }
  return out.sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
}

function dynamicDisks(dynamic: Set<string>, names: string[]): GuestDisk[] {
  return names.filter((n) => dynamic.has(n)).map((n) => ({ slot: `${n} (dynamic)`, storage: dynamicUnknown(n), sizeGb: dynamicUnknown(n) }));
}

/** `network` blocks: net<id> where 3.x states the id, else in the order written (as the docs say). */
function qemuNics(v: Resolved | undefined): GuestNic[] {
  return blocks(v).map((n, i) => defined({
    slot: `net${typeof n.id === 'number' ? n.id : i}`,
    bridge: str(n.bridge, 'network bridge'),
    model: str(n.model, 'network model'),
    tag: vlanTag(n.tag, 'network tag'),
    mtu: num(n.mtu, 'network mtu'),
  }));
}

function lxc(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  const disks: GuestDisk[] = blocks(r.rootfs).slice(0, 1).map((d) => defined({
    slot: 'rootfs', storage: str(d.storage, 'rootfs storage'), sizeGb: sizeGb(d.size, 'rootfs size'),
  }));
  blocks(r.mountpoint).forEach((m, i) => {
    const n = num(m.slot ?? m.key, 'mountpoint slot');
    disks.push(defined({
      slot: `mp${typeof n === 'number' ? n : i}`, storage: str(m.storage, 'mountpoint storage'), sizeGb: sizeGb(m.size, 'mountpoint size'),
    }));
  });
  disks.push(...dynamicDisks(dynamic, ['mountpoint']));
  return defined({
    provider: 'telmate' as const,
    kind: 'lxc' as const,
    where,
    vmid: vmid(r.vmid, 'vmid'),
    name: str(r.hostname, 'hostname'),
    node: str(r.target_node, 'target_node'),
    cores: num(r.cores, 'cores'),
    memoryMb: num(r.memory, 'memory'),
    onboot: bool(r.onboot, 'onboot'),
    tags: tags(r.tags, 'tags'),
    disks,
    // the container's interface name (eth0) is not a slot: Proxmox numbers them net0, net1… in order
    nics: blocks(r.network).map((n, i) => defined({
      slot: `net${i}`, bridge: str(n.bridge, 'network bridge'), tag: vlanTag(n.tag, 'network tag'), mtu: num(n.mtu, 'network mtu'),
    })),
  });
}
