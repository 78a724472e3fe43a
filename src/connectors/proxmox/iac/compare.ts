/**
 * Code against the cluster, guest by guest: a declared guest is matched by vmid when its code
 * states one, else by name; then every field the code states is compared with the live value.
 * A field code leaves out is not compared (it was not stated); a value code states but labwatch
 * could not resolve is reported as unknown with the reason, never guessed. Disks and NICs are
 * compared slot by slot once code lists any; a VLAN tag code leaves out on a NIC it declares
 * means untagged. The result is in a fixed order: by vmid, then name.
 */
import { isUnknown, type DeclaredGuest, type FieldDrift, type GuestDisk, type GuestDrift, type GuestNic, type LiveGuest, type Value } from './model.ts';

type Shown = string | number | boolean | string[] | undefined;

function show(v: Shown): string {
  if (v === undefined) return 'not set';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(none)';
  return String(v);
}

function same(a: Shown, b: Shown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 0.001;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
  return a === b;
}

/** Collects the verdicts of one guest. */
class Fields {
  readonly drift: FieldDrift[] = [];
  readonly checked: string[] = [];

  /** `code` undefined: not stated, not compared. */
  field(name: string, code: Value<Shown> | undefined, live: Shown, shown: (v: Shown) => string = show): void {
    if (code === undefined) return;
    if (isUnknown(code)) {
      this.drift.push({ field: name, code: code.unknown, live: shown(live), verdict: 'unknown' });
      return;
    }
    this.checked.push(name);
    if (!same(code, live)) this.drift.push({ field: name, code: shown(code), live: shown(live), verdict: 'differs' });
  }

  /** A slot one side has and the other does not. */
  missing(name: string, code: string, live: string): void {
    this.checked.push(name);
    this.drift.push({ field: name, code, live, verdict: 'differs' });
  }
}

const gib = (v: Shown) => (typeof v === 'number' ? `${Math.round(v * 100) / 100} GiB` : show(v));
const plain = <T>(v: Value<T> | undefined): T | undefined => (v === undefined || isUnknown(v) ? undefined : v);
const tags = (v: Value<string[]> | undefined): Value<string[]> | undefined => (v === undefined || isUnknown(v) ? v : [...new Set(v.map((t) => t.toLowerCase()))].sort());

function diskText(d: GuestDisk): string {
  const size = plain(d.sizeGb);
  const storage = plain(d.storage);
  return [size !== undefined ? gib(size) : '', storage ? `on ${storage}` : ''].filter(Boolean).join(' ') || 'present';
}
function nicText(n: GuestNic): string {
  return [plain(n.model), plain(n.bridge) && `bridge ${plain(n.bridge)}`, plain(n.tag) !== undefined && `tag ${plain(n.tag)}`].filter(Boolean).join(', ') || 'present';
}

function compareSlots<T extends { slot: string }>(f: Fields, what: 'disk' | 'nic', code: T[], live: T[], text: (x: T) => string, each: (c: T, l: T, prefix: string) => void): void {
  if (code.length === 0) return;
  const slots = [...new Set([...code, ...live].map((x) => x.slot))].sort((a, b) => Number(b === 'rootfs') - Number(a === 'rootfs') || a.localeCompare(b, 'en', { numeric: true }));
  for (const slot of slots) {
    const c = code.find((x) => x.slot === slot);
    const l = live.find((x) => x.slot === slot);
    if (c && l) each(c, l, `${what} ${slot}`);
    else if (c) f.missing(`${what} ${slot}`, text(c), 'none');
    else if (l) f.missing(`${what} ${slot}`, 'none', text(l));
  }
}

function compareOne(d: DeclaredGuest, l: LiveGuest): GuestDrift {
  const f = new Fields();
  if (d.kind !== l.kind) f.missing('kind', d.kind, l.kind);
  f.field('name', d.name, l.name);
  f.field('node', d.node, l.node);
  f.field('cores', d.cores, plain(l.cores));
  f.field('sockets', d.sockets, plain(l.sockets));
  f.field('memory_mb', d.memoryMb, plain(l.memoryMb));
  f.field('onboot', d.onboot, plain(l.onboot));
  f.field('tags', tags(d.tags), plain(tags(l.tags)));
  compareSlots(f, 'disk', d.disks, l.disks, diskText, (c, x, p) => {
    f.field(`${p} storage`, c.storage, plain(x.storage));
    f.field(`${p} size_gb`, c.sizeGb, plain(x.sizeGb), gib);
  });
  compareSlots(f, 'nic', d.nics, l.nics, nicText, (c, x, p) => {
    f.field(`${p} bridge`, c.bridge, plain(x.bridge));
    f.field(`${p} model`, c.model, plain(x.model));
    // a NIC code declares without a tag is untagged
    f.field(`${p} tag`, c.tag ?? ('untagged' as const), plain(x.tag) ?? 'untagged');
    f.field(`${p} mtu`, c.mtu, plain(x.mtu));
  });
  return {
    kind: l.kind,
    vmid: l.vmid,
    name: l.name,
    state: f.drift.some((x) => x.verdict === 'differs') ? 'drifted' : 'in-sync',
    where: d.where,
    node: l.node,
    fields: f.drift,
    checked: f.checked,
  };
}

/** The live guest code means: by vmid when stated, else by name. */
function matchOf(d: DeclaredGuest, live: LiveGuest[]): LiveGuest | undefined {
  const vmid = plain(d.vmid);
  if (vmid !== undefined) return live.find((l) => l.vmid === vmid);
  const name = plain(d.name);
  return name === undefined ? undefined : live.find((l) => l.name === name);
}

/** Every declared guest against the cluster, then every live guest no code declares. */
export function compareGuests(declared: DeclaredGuest[], live: LiveGuest[]): GuestDrift[] {
  const out: GuestDrift[] = [];
  const matched = new Set<number>();
  for (const d of declared) {
    const l = matchOf(d, live);
    if (l) {
      matched.add(l.vmid);
      out.push(compareOne(d, l));
      continue;
    }
    const vmid = plain(d.vmid);
    const node = plain(d.node);
    const fields: FieldDrift[] = [];
    // code that names its guest only through an unresolved value cannot be matched at all: say why
    if (vmid === undefined && isUnknown(d.vmid)) fields.push({ field: 'vmid', code: d.vmid.unknown, live: 'not matched', verdict: 'unknown' });
    if (plain(d.name) === undefined && isUnknown(d.name)) fields.push({ field: 'name', code: d.name.unknown, live: 'not matched', verdict: 'unknown' });
    out.push({ kind: d.kind, ...(vmid !== undefined ? { vmid } : {}), name: plain(d.name) ?? d.where.address, state: 'not-in-lab', where: d.where, ...(node ? { node } : {}), fields });
  }
  for (const l of live) if (!matched.has(l.vmid)) out.push({ kind: l.kind, vmid: l.vmid, name: l.name, state: 'no-code', node: l.node, fields: [] });
  return out.sort(
    (a, b) =>
      (a.vmid ?? Infinity) - (b.vmid ?? Infinity) ||
      a.name.localeCompare(b.name) ||
      (a.where?.file ?? '').localeCompare(b.where?.file ?? '') ||
      (a.where?.address ?? '').localeCompare(b.where?.address ?? ''),
  );
}
