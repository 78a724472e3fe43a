/**
 * Code against the cluster, guest by guest: a declared guest is matched by vmid when its code
 * states one, else by name; then every field the code states is compared with the live value.
 * A field code leaves out is not compared (it was not stated); a value code states but labwatch
 * could not resolve is reported as unknown with the reason, never guessed. Disks and NICs are
 * compared slot by slot once code lists any; a VLAN tag code leaves out on a NIC it declares
 * means untagged. The result is in a fixed order: by vmid, then name.
 *
 * What cannot be matched is said, not guessed: code whose vmid and name are both unknown, or whose
 * name several live guests share, is `unmatched`; two declarations of one guest are one row (the
 * first's verdict) with the problem "declared twice"; disks or NICs a `dynamic` block sets are unknown.
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

  /** Something code sets that labwatch cannot compare, with why. */
  unknown(name: string, why: string, live: string): void {
    this.drift.push({ field: name, code: why, live, verdict: 'unknown' });
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
  const path = plain(d.path);
  const mountpoint = plain(d.mountpoint);
  return [size !== undefined ? gib(size) : '', storage ? `on ${storage}` : '', path ? `from ${path}` : '', mountpoint ? `at ${mountpoint}` : ''].filter(Boolean).join(' ') || 'present';
}
function nicText(n: GuestNic): string {
  return [plain(n.model), plain(n.bridge) && `bridge ${plain(n.bridge)}`, plain(n.tag) !== undefined && `tag ${plain(n.tag)}`].filter(Boolean).join(', ') || 'present';
}

/** The stand-in the reader gives a `dynamic "disk"` / `dynamic "network"` block (values.ts): slot `dynamic:<name>`. */
const isDynamic = (slot: string) => slot.startsWith('dynamic:');
/** Why a dynamic entry is unknown: the reason its reader put on a value, else in general. */
function dynamicWhy(x: object): string {
  const reason = Object.values(x).find(isUnknown);
  return reason ? reason.unknown : 'set by a dynamic block, which labwatch does not expand';
}

/**
 * Slot by slot, once code lists any. Live slots only a dynamic block could set (`covers`) are not
 * compared: the dynamic entry is one unknown row naming them.
 */
function compareSlots<T extends { slot: string }>(
  f: Fields,
  what: 'disk' | 'nic',
  code: T[],
  live: T[],
  text: (x: T) => string,
  each: (c: T, l: T, prefix: string) => void,
  covers: (slot: string, dynamic: T[]) => boolean,
): void {
  if (code.length === 0) return;
  const dynamic = code.filter((x) => isDynamic(x.slot));
  const stated = code.filter((x) => !isDynamic(x.slot));
  const unsaid: string[] = [];
  const slots = [...new Set([...stated, ...live].map((x) => x.slot))].sort((a, b) => Number(b === 'rootfs') - Number(a === 'rootfs') || a.localeCompare(b, 'en', { numeric: true }));
  for (const slot of slots) {
    const c = stated.find((x) => x.slot === slot);
    const l = live.find((x) => x.slot === slot);
    if (c && l) each(c, l, `${what} ${slot}`);
    else if (c) f.missing(`${what} ${slot}`, text(c), 'none');
    else if (l && dynamic.length && covers(slot, dynamic)) unsaid.push(`${slot}: ${text(l)}`);
    else if (l) f.missing(`${what} ${slot}`, 'none', text(l));
  }
  for (const d of dynamic) f.unknown(`${what} ${d.slot}`, dynamicWhy(d), unsaid.length ? unsaid.join('; ') : 'none besides those compared');
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
  // a container's dynamic mount points cannot be its rootfs (bpg's container `disk` block is)
  const diskCovers = (slot: string, dynamic: GuestDisk[]) => l.kind !== 'lxc' || slot !== 'rootfs' || dynamic.some((x) => !/mount/.test(x.slot));
  compareSlots(f, 'disk', d.disks, l.disks, diskText, (c, x, p) => {
    f.field(`${p} storage`, c.storage, plain(x.storage));
    f.field(`${p} size_gb`, c.sizeGb, plain(x.sizeGb), gib);
    f.field(`${p} path`, c.path, plain(x.path));
    f.field(`${p} mountpoint`, c.mountpoint, plain(x.mountpoint));
  }, diskCovers);
  compareSlots(f, 'nic', d.nics, l.nics, nicText, (c, x, p) => {
    f.field(`${p} bridge`, c.bridge, plain(x.bridge));
    f.field(`${p} model`, c.model, plain(x.model));
    // a NIC code declares without a tag is untagged
    f.field(`${p} tag`, c.tag ?? ('untagged' as const), plain(x.tag) ?? 'untagged');
    f.field(`${p} mtu`, c.mtu, plain(x.mtu));
  }, () => true);
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

const label = (l: LiveGuest) => `${l.kind === 'lxc' ? 'ct' : 'vm'}:${l.vmid}`;
const whereText = (w: DeclaredGuest['where']) => `${w.file}${w.line ? `:${w.line}` : ''}: ${w.address}`;

/**
 * The live guest code means: by vmid when stated, else by name, preferring a guest of the same kind;
 * a name several live guests share matches none of them (`ambiguous` says which).
 */
function matchOf(d: DeclaredGuest, live: LiveGuest[]): { live?: LiveGuest; ambiguous?: LiveGuest[] } {
  const vmid = plain(d.vmid);
  if (vmid !== undefined) return { live: live.find((l) => l.vmid === vmid) };
  const name = plain(d.name);
  if (name === undefined) return {};
  const named = live.filter((l) => l.name === name);
  const sameKind = named.filter((l) => l.kind === d.kind);
  const candidates = sameKind.length ? sameKind : named;
  return candidates.length > 1 ? { ambiguous: candidates } : { live: candidates[0] };
}

/** A declared guest no live guest answers to: not in the lab, or unmatched when it cannot be told which. */
function unmatchedOrMissing(d: DeclaredGuest, ambiguous: LiveGuest[] | undefined): GuestDrift {
  const vmid = plain(d.vmid);
  const name = plain(d.name);
  const node = plain(d.node);
  const fields: FieldDrift[] = [];
  const why = (v: DeclaredGuest['vmid'] | DeclaredGuest['name']) => (isUnknown(v) ? v.unknown : 'not stated');
  let state: GuestDrift['state'] = 'not-in-lab';
  if (ambiguous) {
    state = 'unmatched';
    fields.push({ field: 'name', code: String(name), live: `${ambiguous.length} guests have this name (${ambiguous.map(label).join(', ')}); state the vmid to say which`, verdict: 'unknown' });
  } else if (vmid === undefined && name === undefined) {
    state = 'unmatched';
    fields.push({ field: 'vmid', code: why(d.vmid), live: 'not matched', verdict: 'unknown' }, { field: 'name', code: why(d.name), live: 'not matched', verdict: 'unknown' });
  }
  return { kind: d.kind, ...(vmid !== undefined ? { vmid } : {}), name: name ?? d.where.address, state, where: d.where, ...(node ? { node } : {}), fields };
}

/** Which rows are one guest declared more than once: the live guest, else the vmid or name code states. */
function guestKey(d: DeclaredGuest, r: GuestDrift): string | undefined {
  if (r.state === 'unmatched') return undefined;
  if (r.state !== 'not-in-lab') return `live:${r.vmid}`;
  const vmid = plain(d.vmid);
  return vmid !== undefined ? `vmid:${vmid}` : `name:${d.kind}:${r.name}`;
}

/** Every declared guest against the cluster, then every live guest no code declares. */
export function compareGuests(declared: DeclaredGuest[], live: LiveGuest[]): GuestDrift[] {
  const out: GuestDrift[] = [];
  const first = new Map<string, { row: GuestDrift; where: DeclaredGuest['where'][] }>();
  const matched = new Set<number>();
  for (const d of declared) {
    const m = matchOf(d, live);
    if (m.live) matched.add(m.live.vmid);
    const row = m.live ? compareOne(d, m.live) : unmatchedOrMissing(d, m.ambiguous);
    const key = guestKey(d, row);
    const seen = key === undefined ? undefined : first.get(key);
    if (seen) {
      seen.where.push(d.where);
      continue;
    }
    if (key !== undefined) first.set(key, { row, where: [d.where] });
    out.push(row);
  }
  for (const { row, where } of first.values()) {
    if (where.length > 1) row.problems = [`declared ${where.length === 2 ? 'twice' : `${where.length} times`}: ${where.map(whereText).join(', ')}`];
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
