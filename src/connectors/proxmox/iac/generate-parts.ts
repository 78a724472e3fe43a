/** What both providers' writers share: known values, sizes, variables, NIC bodies, the settings keys of live-settings.ts. */
import type { GuestNic, LiveGuest, Value } from './model.ts';
import { isUnknown } from './model.ts';
import { type Block, type Item, attr, comment, num, str } from './write-hcl.ts';

/** What a guest's Terraform needs besides its resource: variables the user fills in. */
export interface Variable {
  name: string;
  description: string;
  sensitive: boolean;
}

export interface Written {
  resource: Block;
  address: string;
  importId: string;
  variables: Variable[];
}

/** A known value, or undefined for one that is absent or unknown (never guessed). */
export function known<T>(v: Value<T> | undefined): T | undefined {
  return v === undefined || isUnknown(v) ? undefined : v;
}

/** Proxmox's size string for GiB: 32 → "32G", 0.5 → "512M" (Telmate takes K/M/G/T suffixes). */
export function sizeString(gb: number): string {
  if (Number.isInteger(gb)) return `${gb}G`;
  const mb = gb * 1024;
  return Number.isInteger(mb) ? `${mb}M` : `${Math.round(mb * 1024)}K`;
}

/** `ide2:local` → the cloud-init drive's slot and storage. */
export function cloudInitDrive(guest: LiveGuest): { slot: string; storage: string } | undefined {
  const [slot, storage] = (guest.settings?.cloudinit ?? '').split(':');
  return slot && storage ? { slot, storage } : undefined;
}

export const ipConfigKeys = (guest: LiveGuest): string[] =>
  Object.keys(guest.settings ?? {})
    .filter((k) => /^ipconfig\d+$/.test(k))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));

export function secretVariable(id: string, guest: LiveGuest, key: string): Variable {
  return { name: `${id}_${key}`, description: `${key} of ${guest.kind === 'lxc' ? 'container' : 'VM'} ${guest.vmid} (${guest.name}); Proxmox does not return it`, sensitive: true };
}

/** What the model could not say, as comments, so the file owns up to it. */
export function unknownNotes(guest: LiveGuest): Item[] {
  const notes: Item[] = [];
  for (const [field, v] of Object.entries({ cores: guest.cores, sockets: guest.sockets, memory: guest.memoryMb, onboot: guest.onboot, tags: guest.tags })) {
    if (isUnknown(v)) notes.push(comment(`${field}: unknown (${v.unknown}); not written`));
  }
  return notes;
}

export const setting = (guest: LiveGuest, key: string): string | undefined => guest.settings?.[key];
/** Proxmox's yes: `1` (flags) or `on` (discard) */
export const isOn = (v: string | undefined): boolean => v === '1' || v === 'on' || v === 'true';

/** A NIC's firewall flag where Proxmox states it (`firewall=1` in net0); both providers default to off. */
function firewall(guest: LiveGuest, nic: GuestNic): boolean | undefined {
  const v = setting(guest, `net:${nic.slot}:firewall`);
  return v === undefined ? undefined : isOn(v);
}

/** A disk's iothread/discard/ssd/cache/backup as Proxmox writes them (`disk:scsi0:discard` = "on"). */
export function diskOptions(guest: LiveGuest, slot: string): { iothread?: boolean; discard?: string; ssd?: boolean; cache?: string; backup?: boolean } {
  const get = (o: string) => setting(guest, `disk:${slot}:${o}`);
  const out: { iothread?: boolean; discard?: string; ssd?: boolean; cache?: string; backup?: boolean } = {};
  if (get('iothread') !== undefined) out.iothread = isOn(get('iothread'));
  if (get('discard') !== undefined) out.discard = get('discard')!;
  if (get('ssd') !== undefined) out.ssd = isOn(get('ssd'));
  if (get('cache') !== undefined) out.cache = get('cache')!;
  // qm.conf and both providers default backup to on: only `backup=0` is worth saying
  if (get('backup') !== undefined) out.backup = isOn(get('backup'));
  return out;
}

/** A container's feature flags (`features: keyctl=1,nesting=1`), by name. */
export function features(guest: LiveGuest): Record<string, string> {
  return Object.fromEntries(
    Object.entries(guest.settings ?? {})
      .filter(([k]) => k.startsWith('features:'))
      .map(([k, v]) => [k.slice('features:'.length), v]),
  );
}

/** pct.conf: `swap` defaults to 512 MiB, while both providers default to 0: always say it. */
export const swapMb = (guest: LiveGuest): number => Number(setting(guest, 'swap') ?? 512);

export function nicBody(guest: LiveGuest, nic: GuestNic, names: { vlan: string }): Item[] {
  const body: Item[] = [];
  const bridge = known(nic.bridge);
  const model = known(nic.model);
  const tag = known(nic.tag);
  const mtu = known(nic.mtu);
  if (bridge !== undefined) body.push(attr('bridge', str(bridge)));
  if (model !== undefined && model !== 'veth') body.push(attr('model', str(model)));
  if (tag !== undefined) body.push(attr(names.vlan, num(tag)));
  if (mtu !== undefined) body.push(attr('mtu', num(mtu)));
  const fw = firewall(guest, nic);
  if (fw !== undefined) body.push(attr('firewall', fw ? 'true' : 'false'));
  return body;
}
