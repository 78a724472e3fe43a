/**
 * A ZFS pool as Proxmox VE reports it → the PoolReading the local zpool collector produces, so
 * rules/zfs.yaml applies unchanged (poolObservations in ../zfs/collect.ts does the rest).
 *
 * What PVE sends (proxmox/pve-storage, src/PVE/API2/Disks/ZFS.pm):
 * - `GET /nodes/{node}/disks/zfs/{name}` is PVE's own parse of `zpool status -P <name>`: every
 *   `key: text` header becomes a string field, continuation lines joined with single spaces (so
 *   `scan` and `errors` arrive on one line); the config table becomes a tree, two spaces of
 *   indent per level. The pool's own row is the first child; `logs`, `cache`, `spares`,
 *   `special`, `dedup` are siblings of it with the devices under them. Each row has `name`,
 *   `state`, `read`/`write`/`cksum` (Perl's `+0` of zpool's text: "1.37K" arrives as 1.37,
 *   spare rows "INUSE currently in use" arrive as counters 0 0 0) and `msg`, the text after the
 *   counters ("was /dev/…", "too many errors", "(resilvering)"). `leaf` is 1 when there are no children.
 * - `GET /nodes/{node}/disks/zfs`: `zpool list -HpPLo name,size,alloc,free,frag,dedup,health`
 *   with each number `+0`'d, so a "-" (a faulted pool) arrives as 0.
 */
import * as z from 'zod';
import { issueMessage, issuePath } from '../../util/zod.ts';
import type { PoolReading } from '../zfs/read.ts';
import { msgidIn, parseCount, scanFromLines, vdevKindFromName } from '../zfs/parse-status-text.ts';
import type { PoolErrors, PoolHealth, PoolUsage, ScanState, Vdev, VdevCounters, VdevGroup } from '../zfs/types.ts';

/** A number, or a string holding one (abbreviated counters such as "1.37K" included). */
const countLike = z.union([z.number(), z.string()]);

interface PveVdevRow {
  name: string;
  state?: string | undefined;
  read?: number | string | undefined;
  write?: number | string | undefined;
  cksum?: number | string | undefined;
  msg?: string | undefined;
  leaf?: number | boolean | undefined;
  children?: PveVdevRow[] | undefined;
}

const pveVdevRow: z.ZodType<PveVdevRow> = z.object({
  name: z.string(),
  state: z.string().optional(),
  read: countLike.optional(),
  write: countLike.optional(),
  cksum: countLike.optional(),
  msg: z.string().optional(),
  leaf: z.union([z.number(), z.boolean()]).optional(),
  get children() {
    return z.array(pveVdevRow).optional();
  },
});

/** `GET /nodes/{node}/disks/zfs/{name}` (the `data`). */
export const pveZfsDetail = z.object({
  name: z.string().min(1),
  state: z.string().optional(),
  status: z.string().optional(),
  action: z.string().optional(),
  /** not in PVE's declared schema, but every `key: text` header lands in the answer */
  see: z.string().optional(),
  scan: z.string().optional(),
  errors: z.string().optional(),
  children: z.array(pveVdevRow).default([]),
});

/** One element of `GET /nodes/{node}/disks/zfs`. */
export const pveZfsListRow = z.object({
  name: z.string().min(1),
  size: countLike.optional(),
  alloc: countLike.optional(),
  free: countLike.optional(),
  frag: countLike.optional(),
  dedup: countLike.optional(),
  health: z.string().default(''),
});

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => `${issuePath(i.path) || '(top level)'}: ${issueMessage(i)}`);
  throw new Error(`proxmox: ${what} is not shaped as PVE's pve-storage sends it (${issues.join('; ')}); check the PVE version and the API token's Sys.Audit permission`);
}

/** A counter as PVE relays it. A fraction means Perl dropped zpool's suffix ("1.37K" → 1.37): K is the smallest, so ×1024 is a floor. */
function count(v: number | string | undefined): number | undefined {
  if (typeof v === 'string') return parseCount(v);
  if (v === undefined || !Number.isFinite(v)) return undefined;
  return Number.isInteger(v) ? v : Math.round(v * 1024);
}

function countersOf(row: PveVdevRow): VdevCounters | undefined {
  const read = count(row.read);
  const write = count(row.write);
  const checksum = count(row.cksum);
  return read !== undefined && write !== undefined && checksum !== undefined ? { read, write, checksum } : undefined;
}

function vdevFrom(row: PveVdevRow, group: VdevGroup): Vdev {
  const vdev: Vdev = { name: row.name, kind: vdevKindFromName(row.name), state: row.state ?? '', children: [] };
  // zpool prints no counters for spares AVAIL/INUSE: what PVE read there were words of the note
  const wordsAsCounters = group === 'spares' && (row.state === 'AVAIL' || row.state === 'INUSE');
  const counters = wordsAsCounters ? undefined : countersOf(row);
  if (counters) vdev.counters = counters;
  const note = (row.msg ?? '').trim();
  if (note !== '') {
    vdev.note = note;
    const was = /\bwas (\S+)/.exec(note);
    if (was) vdev.wasPath = was[1]!;
    if (note.includes('(resilvering)')) vdev.resilvering = true;
  }
  vdev.children = (row.children ?? []).map((c) => vdevFrom(c, group));
  return vdev;
}

const GROUPS = new Map<string, VdevGroup>([
  ['logs', 'logs'],
  ['cache', 'cache'],
  ['spares', 'spares'],
  ['special', 'special'],
  ['dedup', 'dedup'],
]);

/** ctime as zpool prints it; the first one ends the scan's first line ("… since <date>", "… on <date>"). */
const CTIME = /[A-Z][a-z]{2} {1,4}[A-Z][a-z]{2} {1,4}\d{1,2} {1,4}\d{1,2}:\d{2}:\d{2}(?: {1,4}[AP]M)?(?: {1,4}[A-Z][A-Za-z0-9+-]{1,5})? {1,4}\d{4}/;

/** PVE joined the scan lines with spaces: split them again after the first date, then read them as the text parser does. */
function scanOf(text: string | undefined): ScanState {
  if (text === undefined || text.trim() === '') return { kind: 'none', state: 'none' };
  const t = text.trim();
  const m = CTIME.exec(t);
  if (!m) return scanFromLines(t);
  const end = m.index + m[0].length;
  const rest = t.slice(end).trim();
  return scanFromLines(t.slice(0, end), rest === '' ? [] : [rest]);
}

/**
 * The `errors` line, joined by PVE. Only the last `errors:` line zpool printed survives (PVE
 * overwrites), and a file list arrives space-separated (a file name with a space is split).
 */
function errorsOf(text: string | undefined): PoolErrors | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim();
  const n = /^(\d+) data errors?\b/.exec(t);
  const files = /^Permanent errors have been detected in the following files:\s*(.*)$/.exec(t);
  const unavailable = /^List of errors unavailable:?\s*(.*)$/.exec(t);
  const permanentFiles = files?.[1] ? files[1].split(/\s+/).filter(Boolean) : [];
  const dataErrors = /^No known data errors/.test(t) ? 0 : n ? Number(n[1]) : undefined;
  return {
    dataErrors: Math.max(dataErrors ?? 0, permanentFiles.length),
    counted: dataErrors !== undefined || permanentFiles.length > 0,
    permanentFiles,
    listUnavailable: unavailable !== null,
    ...(unavailable?.[1] ? { unavailableBecause: unavailable[1].trim() } : {}),
    text: t,
  };
}

function usageOf(row: z.infer<typeof pveZfsListRow>): PoolUsage {
  const usage: PoolUsage = { name: row.name, health: row.health };
  const size = count(row.size);
  // PVE turns zpool's "-" into 0: a pool of size 0 (faulted, unavailable) has no usage to tell
  if (size === undefined || size <= 0) return usage;
  const alloc = count(row.alloc);
  const free = count(row.free);
  const frag = count(row.frag);
  const dedup = typeof row.dedup === 'number' ? row.dedup : row.dedup === undefined ? undefined : Number.parseFloat(row.dedup);
  usage.sizeBytes = size;
  if (alloc !== undefined) {
    usage.allocBytes = alloc;
    // as zpool computes CAP (alloc * 100 / size in integers), so both paths show the same figure
    usage.capacityPct = Math.floor((alloc * 100) / size);
  }
  if (free !== undefined) usage.freeBytes = free;
  if (frag !== undefined) usage.fragmentationPct = frag;
  if (dedup !== undefined && Number.isFinite(dedup) && dedup > 0) usage.dedupRatio = dedup;
  return usage;
}

/** One pool from PVE's detail (and its row of the pool list, for capacity) as labwatch's PoolReading. */
export function poolFromPve(detail: unknown, listRow?: unknown): PoolReading {
  const d = parseOrThrow(pveZfsDetail, detail, 'GET /nodes/{node}/disks/zfs/{name}');
  const row = listRow === undefined ? undefined : parseOrThrow(pveZfsListRow, listRow, `the GET /nodes/{node}/disks/zfs row for pool ${d.name}`);
  const health: PoolHealth = { name: d.name, subject: `pool:${d.name}`, state: d.state ?? '', scan: scanOf(d.scan), groups: {} };
  if (d.status !== undefined) health.status = d.status;
  if (d.action !== undefined) health.action = d.action;
  if (d.see !== undefined) health.see = d.see;
  const msgid = msgidIn([d.see, d.action, d.status].filter(Boolean).join(' '));
  if (msgid) health.msgid = msgid;

  // the pool's own row is the first child (named like the pool); the rest are allocation classes
  const rootAt = Math.max(0, d.children.findIndex((c) => c.name === d.name));
  d.children.forEach((child, i) => {
    if (i === rootAt) {
      const counters = countersOf(child);
      if (counters) health.counters = counters;
      const data = (child.children ?? []).map((c) => vdevFrom(c, 'data'));
      if (data.length) health.groups.data = data;
      return;
    }
    const group = GROUPS.get(child.name);
    if (!group) return; // not a vdev of this pool
    const vdevs = (child.children ?? []).map((c) => vdevFrom(c, group));
    if (vdevs.length) (health.groups[group] ??= []).push(...vdevs);
  });

  const errors = errorsOf(d.errors);
  if (errors) health.errors = errors;
  return row ? { health, usage: usageOf(row) } : { health };
}
