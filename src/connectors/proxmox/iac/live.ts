/**
 * The cluster's side of the comparison: each guest's config as Proxmox answers
 * `/nodes/{node}/{qemu|lxc}/{vmid}/config`, in the shape code is read into (model.ts). Property
 * strings are read as pve-docs (qm.conf, pct.conf) describe them; what Proxmox leaves out takes
 * Proxmox's default (memory 512 MiB, 1 core, 1 socket, onboot off), so code that states a default
 * is not drift. A container without `cores` may use every host core: that is left unset.
 */
import type { ProxmoxReader, Resource } from '../read.ts';
import { settingsOf } from './live-settings.ts';
import type { GuestDisk, GuestNic, LiveGuest } from './model.ts';

const CONCURRENT_READS = 4;
/** qm.conf's NIC models: the key that carries the MAC (`virtio=BC:24:…`). */
const NIC_MODELS = new Set(['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3']);
const QEMU_DISK = /^(scsi|virtio|sata|ide)(\d+)$/;
const LXC_DISK = /^(rootfs|mp\d+)$/;
const NET = /^net(\d+)$/;

/** "local-lvm:vm-100-disk-0,size=32G,ssd=1" → { '': 'local-lvm:vm-100-disk-0', size: '32G', ssd: '1' } (a part without `=` is the default key) */
function propertyString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) out[''] ??= part.trim();
    else out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Proxmox's disk size ("32G", "512M", "1T", bytes without a unit) in GiB. */
function sizeGb(size: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!m) return undefined;
  const exp = { '': -3, K: -2, M: -1, G: 0, T: 1 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * 1024 ** exp;
}

const int = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const flag = (v: unknown): boolean => v === true || v === 1 || v === '1';

/** memory: 8192, "8192" or (PVE ≥ 8.1) "current=8192" */
function memoryMb(v: unknown): number | undefined {
  if (typeof v === 'string' && v.includes('=')) return int(propertyString(v).current ?? propertyString(v)['']);
  return int(v);
}

/** Tags as Proxmox splits them (`;`, `,` or spaces), lower-case and sorted. */
function tagList(s: unknown): string[] {
  return typeof s === 'string' ? [...new Set(s.split(/[;,\s]+/).filter(Boolean).map((t) => t.toLowerCase()))].sort() : [];
}

/**
 * A disk slot, or undefined for what is not a guest disk: a CD-ROM, a cloud-init drive. A disk
 * passed through (`/dev/disk/by-id/…`) or a container's bind mount (`/tank/media`) has a `path`
 * instead of a storage; a container's mount point says where it appears inside (`mp=/data`).
 */
function diskOf(slot: string, value: string): GuestDisk | undefined {
  const p = propertyString(value);
  const volume = p[''] ?? p.volume ?? p.file ?? '';
  if (p.media === 'cdrom' || /cloudinit/.test(volume) || volume === 'none') return undefined;
  const disk: GuestDisk = { slot };
  const colon = volume.indexOf(':');
  if (volume.startsWith('/')) disk.path = volume;
  else if (colon > 0) disk.storage = volume.slice(0, colon);
  const gb = p.size !== undefined ? sizeGb(p.size) : undefined;
  if (gb !== undefined) disk.sizeGb = gb;
  if (p.mp) disk.mountpoint = p.mp;
  return disk;
}

function nicOf(kind: 'qemu' | 'lxc', slot: string, value: string): GuestNic {
  const p = propertyString(value);
  const nic: GuestNic = { slot };
  if (p.bridge) nic.bridge = p.bridge;
  const model = kind === 'lxc' ? p.type : (p.model ?? Object.keys(p).find((k) => NIC_MODELS.has(k)) ?? (NIC_MODELS.has(p[''] ?? '') ? p[''] : undefined));
  if (model) nic.model = model;
  const tag = int(p.tag);
  if (tag !== undefined) nic.tag = tag;
  const mtu = int(p.mtu);
  if (mtu !== undefined) nic.mtu = mtu;
  // a container's interface name (eth0): both providers require it when code is written from the lab
  if (kind === 'lxc' && p.name) nic.name = p.name;
  return nic;
}

/** rootfs first, then by bus and number (scsi2 before scsi10) */
const slotOrder = (a: { slot: string }, b: { slot: string }) => Number(b.slot === 'rootfs') - Number(a.slot === 'rootfs') || a.slot.localeCompare(b.slot, 'en', { numeric: true });

/** One guest as the cluster runs it, from its config as `/config` answers it (numbers may be strings). */
export function liveGuestOf(kind: 'qemu' | 'lxc', node: string, vmid: number, status: string, name: string, config: Record<string, unknown>): LiveGuest {
  const disks: GuestDisk[] = [];
  const nics: GuestNic[] = [];
  for (const [key, v] of Object.entries(config)) {
    if (typeof v !== 'string') continue;
    if (kind === 'qemu' ? QEMU_DISK.test(key) : LXC_DISK.test(key)) {
      const d = diskOf(key, v);
      if (d) disks.push(d);
    } else if (NET.test(key)) nics.push(nicOf(kind, key, v));
  }
  const guest: LiveGuest = {
    kind,
    vmid,
    name,
    node,
    status,
    memoryMb: memoryMb(config.memory) ?? 512,
    onboot: flag(config.onboot),
    tags: tagList(config.tags),
    disks: disks.sort(slotOrder),
    nics: nics.sort(slotOrder),
  };
  const cores = int(config.cores);
  if (kind === 'qemu') {
    guest.cores = cores ?? 1;
    guest.sockets = int(config.sockets) ?? 1;
  } else if (cores !== undefined) guest.cores = cores;
  Object.assign(guest, settingsOf(kind, config));
  return guest;
}

type GuestResource = Resource & { vmid: number; node: string; type: 'qemu' | 'lxc' };
const isGuest = (r: Resource): r is GuestResource => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined && r.node !== undefined;

/**
 * Every VM and container the token sees (templates left out), each with its config, read four at
 * a time. A config that cannot be read (its node offline, a refused token) fails the whole read,
 * naming the guests: a comparison without them would call their code "not in the lab".
 */
export async function readLiveGuests(reader: ProxmoxReader, signal?: AbortSignal): Promise<LiveGuest[]> {
  const resources = await reader.resources(signal);
  const offline = new Set(resources.filter((r) => r.type === 'node' && r.node && r.status !== undefined && r.status !== 'online').map((r) => r.node!));
  const guests = resources.filter(isGuest).filter((g) => !g.template).sort((a, b) => a.vmid - b.vmid);
  const down = guests.filter((g) => offline.has(g.node));
  if (down.length)
    throw new Error(`the config of ${down.map(label).join(', ')} cannot be read: node ${[...new Set(down.map((g) => g.node))].sort().join(', ')} is offline; drift is checked once it is back`);
  const out: LiveGuest[] = new Array(guests.length);
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < guests.length) {
      const i = next++;
      const g = guests[i]!;
      try {
        const config = await reader.guestConfig(g.node, g.type, g.vmid, signal);
        out[i] = liveGuestOf(g.type, g.node, g.vmid, g.status ?? 'unknown', g.name ?? String(config.name ?? config.hostname ?? ''), config);
      } catch (e) {
        if (signal?.aborted) throw e;
        failed.push(`${label(g)}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, guests.length) }, worker));
  if (failed.length) throw new Error(`guest configs not read, so drift cannot be judged: ${failed.join('; ')}`);
  return out;
}

const label = (g: GuestResource) => `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}${g.name ? ` (${g.name})` : ''} on ${g.node}`;
