/**
 * Telmate/proxmox resources as guests: `proxmox_vm_qemu` (2.x `disk {type storage size}` blocks and 3.x
 * `disks { scsi { scsi0 { disk { … } } } }`, top-level cores/sockets or the newer `cpu { cores sockets }`) and
 * `proxmox_lxc`. Attribute names as in the provider's docs/resources/vm_qemu.md and lxc.md and its schema
 * (proxmox/Internal/resource/guest/qemu/network/schema.go: network `id`, `mtu`, `tag`).
 *
 * The provider's own defaults (memory 512, cores 1, onboot true in 2.x but false in 3.x) differ between
 * versions, so a field the code leaves out stays "not stated" rather than taking a default.
 */
import type { DeclaredGuest, GuestDisk, GuestNic, Value } from './model.ts';
import type { Resolved } from './hcl.ts';
import { blocks, bool, defined, dynamicDisk, dynamicNic, num, sizeGb, str, tags, vlanTag, vmid } from './values.ts';

export const TELMATE_TYPES = new Set(['proxmox_vm_qemu', 'proxmox_lxc']);

type Obj = { [key: string]: Resolved };
type Where = DeclaredGuest['where'];

export function guestFromTelmate(type: string, r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  return type === 'proxmox_lxc' ? lxc(r, where, dynamic) : qemu(r, where, dynamic);
}

const BUSES = ['ide', 'sata', 'scsi', 'virtio'];

/** `target_node`, or 3.x `target_nodes` (Proxmox picks one of several: unknown which). */
function node(r: Obj): Value<string> | undefined {
  if (r.target_node !== undefined && r.target_node !== null) return str(r.target_node, 'target_node');
  const nodes = r.target_nodes;
  if (Array.isArray(nodes) && nodes.length === 1) return str(nodes[0], 'target_nodes');
  if (Array.isArray(nodes) && nodes.length > 1) return { unknown: `target_nodes lists ${nodes.length} nodes; the provider places the guest on one of them` };
  return str(nodes, 'target_nodes');
}

function qemu(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  // 3.x moved cores/sockets into a cpu block; in 2.x `cpu` is the CPU type string.
  const cpu = blocks(r.cpu)[0] ?? {};
  return defined({
    provider: 'telmate' as const,
    kind: 'qemu' as const,
    where,
    vmid: vmid(r.vmid, 'vmid'),
    name: str(r.name, 'name'),
    node: node(r),
    cores: num(cpu.cores ?? r.cores, 'cores'),
    sockets: num(cpu.sockets ?? r.sockets, 'sockets'),
    memoryMb: num(r.memory, 'memory'),
    // 3.x renamed onboot to start_at_node_boot
    onboot: bool(r.start_at_node_boot ?? r.onboot, r.start_at_node_boot !== undefined ? 'start_at_node_boot' : 'onboot'),
    tags: tags(r.tags, 'tags'),
    disks: [...diskBlocks(r.disk), ...newDisks(r.disks), ...['disk', 'disks'].filter((n) => dynamic.has(n)).map((n) => dynamicDisk(n))],
    nics: [...qemuNics(r.network), ...(dynamic.has('network') ? [dynamicNic('network')] : [])],
  });
}

/**
 * `disk` blocks. 2.x: `type` is the bus and `slot` a number (else numbered per bus in the order written, as
 * the docs' example shows: scsi0, ide0, scsi1). 3.x: `slot` is the slot's name ("scsi0") and `type` is
 * disk (the default), cdrom or cloudinit; only disks are compared.
 */
function diskBlocks(v: Resolved | undefined): GuestDisk[] {
  const next: Record<string, number> = {};
  const out: GuestDisk[] = [];
  for (const [i, d] of blocks(v).entries()) {
    if (d.media === 'cdrom' || d.type === 'cdrom' || d.type === 'cloudinit') continue;
    let slot: string;
    if (typeof d.slot === 'string' && !/^\d+$/.test(d.slot)) {
      slot = d.slot;
    } else if (typeof d.type === 'string' && BUSES.includes(d.type)) {
      const bus = d.type;
      const index = d.slot !== undefined && d.slot !== null && /^\d+$/.test(String(d.slot)) ? Number(d.slot) : (next[bus] ?? 0);
      next[bus] = Math.max(next[bus] ?? 0, index + 1);
      slot = `${bus}${index}`;
    } else {
      slot = `disk ${i + 1} (slot not stated)`;
    }
    out.push(defined({ slot, storage: str(d.storage, `${slot} storage`), sizeGb: sizeGb(d.size, `${slot} size`) }));
  }
  return out;
}

/**
 * 3.x: `disks { <bus> { <slot> { disk {…} | passthrough { file } } } }`; cdrom and cloudinit slots are not
 * disks to compare. A passthrough disk is the host device's path: Proxmox keeps no storage for it.
 */
function newDisks(v: Resolved | undefined): GuestDisk[] {
  const out: GuestDisk[] = [];
  for (const disks of blocks(v)) {
    for (const bus of BUSES) {
      for (const slots of blocks(disks[bus])) {
        for (const [slot, value] of Object.entries(slots)) {
          if (slot === 'dynamic') {
            for (const name of Object.keys(blocks(value)[0] ?? {})) out.push(dynamicDisk(name));
            continue;
          }
          for (const holder of blocks(value)) {
            for (const d of blocks(holder.disk)) {
              out.push(defined({ slot, storage: str(d.storage, `${slot} storage`), sizeGb: sizeGb(d.size, `${slot} size`) }));
            }
            for (const p of blocks(holder.passthrough)) out.push(defined({ slot, path: str(p.file, `${slot} passthrough file`) }));
          }
        }
      }
    }
  }
  return out.sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
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

/**
 * A `mountpoint`: a volume on a storage (`storage = "local-lvm"`, `size = "12G"`), or a bind mount of a host
 * path (`storage`/`volume` = "/srv/host/…", the docs' example), which has no storage and no size of Proxmox's.
 */
function mountpoint(m: Obj, i: number): GuestDisk {
  const n = num(m.slot ?? m.key, 'mountpoint slot');
  const slot = `mp${typeof n === 'number' ? n : i}`;
  const host = [m.volume, m.storage].find((x): x is string => typeof x === 'string' && x.startsWith('/'));
  const inside = str(m.mp, `${slot} mp`);
  if (host !== undefined) return defined({ slot, path: host, mountpoint: inside });
  // `storage = "local-lvm:12"` (the docs' example) asks for a new 12 GiB volume on local-lvm
  const volume = typeof m.storage === 'string' ? /^([^:/]+):(\d+(?:\.\d+)?)$/.exec(m.storage) : null;
  if (volume) return defined({ slot, storage: volume[1], sizeGb: sizeGb(m.size ?? volume[2], `${slot} size`), mountpoint: inside });
  return defined({ slot, storage: str(m.storage, `${slot} storage`), sizeGb: sizeGb(m.size, `${slot} size`), mountpoint: inside });
}

function lxc(r: Obj, where: Where, dynamic: Set<string>): DeclaredGuest {
  const disks: GuestDisk[] = blocks(r.rootfs).slice(0, 1).map((d) => defined({
    slot: 'rootfs', storage: str(d.storage, 'rootfs storage'), sizeGb: sizeGb(d.size, 'rootfs size'),
  }));
  disks.push(...blocks(r.mountpoint).map(mountpoint));
  if (dynamic.has('mountpoint')) disks.push(dynamicDisk('mountpoint', true));
  // the container's interface name (eth0) is not a slot: Proxmox numbers them net0, net1… in order
  const nics: GuestNic[] = blocks(r.network).map((n, i) => defined({
    slot: `net${i}`, bridge: str(n.bridge, 'network bridge'), tag: vlanTag(n.tag, 'network tag'), mtu: num(n.mtu, 'network mtu'),
  }));
  if (dynamic.has('network')) nics.push(dynamicNic('network'));
  return defined({
    provider: 'telmate' as const,
    kind: 'lxc' as const,
    where,
    vmid: vmid(r.vmid, 'vmid'),
    name: str(r.hostname, 'hostname'),
    node: node(r),
    cores: num(r.cores, 'cores'),
    memoryMb: num(r.memory, 'memory'),
    onboot: bool(r.onboot, 'onboot'),
    tags: tags(r.tags, 'tags'),
    disks,
    nics,
  });
}
