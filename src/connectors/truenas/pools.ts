/**
 * A pool as TrueNAS's `pool.query` gives it → the PoolReading the local zpool collector produces,
 * so rules/zfs.yaml applies unchanged (poolObservations in ../zfs/collect.ts does the rest).
 *
 * What the NAS sends (core-get-methods-25.04.json `returns`; vdev shape as truenas/middleware's
 * pool topology): `status` ONLINE/DEGRADED/…, `status_detail` zpool's own words, `size`,
 * `allocated`, `free`, `fragmentation` (a string), `scan` {function SCRUB|RESILVER, state
 * SCANNING|FINISHED|CANCELED, start_time, end_time, percentage, errors, pause, total_secs_left},
 * and `topology` {data, log, cache, spare, special, dedup} of vdevs {name, type (DISK, MIRROR,
 * RAIDZ1 …), path, guid, status, stats{read_errors, write_errors, checksum_errors}, disk, children}.
 */
import * as z from 'zod';
import { looseNumber as num } from '../api-client.ts';
import type { PoolReading } from '../zfs/read.ts';
import type { PoolHealth, PoolUsage, ScanState, Vdev, VdevGroup } from '../zfs/types.ts';

interface TnVdev {
  name: string;
  type?: string | undefined;
  path?: string | null | undefined;
  guid?: string | null | undefined;
  status?: string | null | undefined;
  disk?: string | null | undefined;
  stats?: { read_errors?: number | undefined; write_errors?: number | undefined; checksum_errors?: number | undefined } | null | undefined;
  children?: TnVdev[] | undefined;
}

const tnVdev: z.ZodType<TnVdev> = z.looseObject({
  name: z.string(),
  type: z.string().optional(),
  path: z.string().nullish(),
  guid: z.union([z.string(), z.number().transform(String)]).nullish(),
  status: z.string().nullish(),
  disk: z.string().nullish(),
  stats: z.looseObject({ read_errors: z.number().optional(), write_errors: z.number().optional(), checksum_errors: z.number().optional() }).nullish(),
  get children() {
    return z.array(tnVdev).optional();
  },
});

const scan = z
  .looseObject({
    function: z.string().nullish(),
    state: z.string().nullish(),
    start_time: z.string().nullish(),
    end_time: z.string().nullish(),
    percentage: num.nullish(),
    errors: num.nullish(),
    pause: z.unknown(),
    total_secs_left: num.nullish(),
  })
  .nullish();

const groups = z.array(tnVdev).default([]);

/** One element of `pool.query`. */
export const tnPool = z.looseObject({
  name: z.string().min(1),
  guid: z.union([z.string(), z.number().transform(String)]).nullish(),
  status: z.string(),
  healthy: z.boolean().nullish(),
  status_detail: z.string().nullish(),
  size: num.nullish(),
  allocated: num.nullish(),
  free: num.nullish(),
  fragmentation: num.nullish(),
  scan,
  topology: z.looseObject({ data: groups, log: groups, cache: groups, spare: groups, special: groups, dedup: groups }).nullish(),
});
export type TnPool = z.infer<typeof tnPool>;

type TopologyKey = 'data' | 'log' | 'cache' | 'spare' | 'special' | 'dedup';
const GROUPS: [TopologyKey, VdevGroup][] = [
  ['data', 'data'],
  ['log', 'logs'],
  ['cache', 'cache'],
  ['spare', 'spares'],
  ['special', 'special'],
  ['dedup', 'dedup'],
];

const groupOf = (p: TnPool, key: TopologyKey): TnVdev[] => (p.topology?.[key] as TnVdev[] | undefined) ?? [];

function kindOf(type: string | undefined): Vdev['kind'] {
  const t = (type ?? '').toUpperCase();
  if (t === 'MIRROR') return 'mirror';
  if (t.startsWith('RAIDZ')) return 'raidz';
  if (t.startsWith('DRAID')) return 'draid';
  if (t === 'REPLACING') return 'replacing';
  if (t === 'SPARE') return 'spare';
  if (t === 'FILE') return 'file';
  return 'disk';
}

function vdevFrom(v: TnVdev): Vdev {
  const out: Vdev = { name: v.name, kind: kindOf(v.type), state: v.status ?? '', children: (v.children ?? []).map(vdevFrom) };
  const s = v.stats;
  if (s && s.read_errors !== undefined && s.write_errors !== undefined && s.checksum_errors !== undefined) out.counters = { read: s.read_errors, write: s.write_errors, checksum: s.checksum_errors };
  if (v.disk) out.note = `disk ${v.disk}`;
  return out;
}

function scanOf(s: TnPool['scan']): ScanState {
  const fn = (s?.function ?? '').toUpperCase();
  if (!s || (fn !== 'SCRUB' && fn !== 'RESILVER')) return { kind: 'none', state: 'none' };
  const kind = fn === 'SCRUB' ? 'scrub' : 'resilver';
  const st = (s.state ?? '').toUpperCase();
  const state: ScanState['state'] = st === 'SCANNING' ? (s.pause ? 'paused' : 'running') : st === 'FINISHED' ? 'finished' : st === 'CANCELED' ? 'canceled' : 'none';
  const out: ScanState = { kind, state };
  if (s.start_time) out.startedAt = s.start_time;
  if (s.end_time && state !== 'running') out.endedAt = s.end_time;
  if (s.errors !== undefined && s.errors !== null) out.errors = s.errors;
  if (state === 'running' && typeof s.percentage === 'number') out.progressPct = Math.round(s.percentage * 10) / 10;
  if (state === 'running' && typeof s.total_secs_left === 'number') out.secondsToGo = s.total_secs_left;
  out.text =
    state === 'running' || state === 'paused'
      ? `${kind} ${state === 'paused' ? 'paused' : 'in progress'}${out.progressPct !== undefined ? `, ${out.progressPct} % done` : ''}`
      : `${kind} ${state}${out.endedAt ? ` on ${out.endedAt}` : ''}${out.errors !== undefined ? ` with ${out.errors} errors` : ''}`;
  return out;
}

/** One pool from `pool.query` as labwatch's PoolReading. */
export function poolFromTrueNas(p: TnPool): PoolReading {
  const health: PoolHealth = { name: p.name, subject: `pool:${p.name}`, state: p.status, scan: scanOf(p.scan), groups: {} };
  if (p.status_detail) health.status = p.status_detail;
  for (const [key, group] of GROUPS) {
    const vdevs = groupOf(p, key).map(vdevFrom);
    if (vdevs.length) health.groups[group] = vdevs;
  }
  const usage: PoolUsage = { name: p.name, health: p.status };
  if (typeof p.size === 'number' && p.size > 0) {
    usage.sizeBytes = p.size;
    if (typeof p.allocated === 'number') {
      usage.allocBytes = p.allocated;
      // as zpool computes CAP (alloc * 100 / size in integers), so every path shows the same figure
      usage.capacityPct = Math.floor((p.allocated * 100) / p.size);
    }
    if (typeof p.free === 'number') usage.freeBytes = p.free;
    if (typeof p.fragmentation === 'number') usage.fragmentationPct = p.fragmentation;
  }
  return { health, usage };
}

/** Every leaf vdev of a pool with the disk name and GUID the NAS gives for it. */
export function leafVdevs(p: TnPool): TnVdev[] {
  const walk = (vs: TnVdev[]): TnVdev[] => vs.flatMap((v) => (v.children?.length ? walk(v.children) : [v]));
  return GROUPS.flatMap(([key]) => walk(groupOf(p, key)));
}
