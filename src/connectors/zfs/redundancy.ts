/**
 * What a pool's layout says about a failure, in words a person acts on: is data at risk (no
 * redundancy, or none left), do several disks failing at once point at something they share, and
 * which failing device is a log, cache or special device rather than a data disk.
 */
import type { PoolHealth, Vdev, VdevGroup } from './types.ts';

/** States of a device that is not serving I/O (OFFLINE is deliberate, but the redundancy is gone all the same). */
const DOWN = new Set(['FAULTED', 'UNAVAIL', 'REMOVED', 'OFFLINE', 'CANT_OPEN']);
const FINE = new Set(['ONLINE', 'HEALTHY', 'AVAIL', 'INUSE']);

const errorsOf = (v: Vdev) => (v.counters ? v.counters.read + v.counters.write + v.counters.checksum : 0);
const leavesOf = (v: Vdev): Vdev[] => (v.children.length ? v.children.flatMap(leavesOf) : [v]);

/** How many members a vdev can lose and keep its data: mirror n-1, raidzN/draidN N, a disk 0. */
function tolerance(v: Vdev): number {
  if (v.kind === 'mirror' || v.kind === 'replacing' || v.kind === 'spare') return Math.max(0, v.children.length - 1);
  if (v.kind === 'raidz' || v.kind === 'draid') return Number(/^(?:raidz|draid)([1-3])/.exec(v.name)?.[1] ?? 1);
  return 0;
}

/** A member counts as lost when down, or when it is itself a vdev with nothing left. */
function lost(v: Vdev): boolean {
  if (DOWN.has(v.state)) return true;
  if (!v.children.length) return false;
  return v.children.filter(lost).length > tolerance(v);
}

export const ROLE: Record<VdevGroup, string> = {
  data: 'device',
  logs: 'log device (SLOG)',
  cache: 'cache device (L2ARC)',
  special: 'special device',
  dedup: 'dedup device',
  spares: 'spare',
};

interface Redundancy {
  /** data is at risk: a device with no redundancy behind it fails or has errors, or a vdev has none left */
  atRisk: boolean;
  /** the sentences saying why ('' when not at risk) */
  risk: string;
  /** several disks failing at once: the shared-cause hypothesis ('' otherwise) */
  sharedCause: string;
  /** failing log/cache/special/dedup/spare devices, named as such ('' when none) */
  auxDevices: string;
  /** names of top-level data devices with no redundancy (single-disk pool or stripe members) */
  unprotected: Set<string>;
}

export function redundancyOf(p: PoolHealth): Redundancy {
  const data = p.groups.data ?? [];
  const risks: string[] = [];
  const unprotected = new Set(data.filter((v) => v.children.length === 0).map((v) => v.name));
  const layout = data.length === 1 ? 'a single-disk pool' : 'a stripe: no redundancy';
  for (const v of data) {
    if (v.children.length === 0) {
      if (!FINE.has(v.state) || errorsOf(v) > 0) {
        const what = !FINE.has(v.state) ? `is ${v.state}` : `has ${errorsOf(v)} read/write/checksum errors`;
        risks.push(`${v.name} ${what} and has no redundancy (${layout}): data at risk, back up now`);
      }
      continue;
    }
    const down = v.children.filter(lost).length;
    const tol = tolerance(v);
    if (down > 0 && down > tol) risks.push(`${v.name} has lost ${down} of ${v.children.length} members, more than it can survive: data is lost or unreachable until they return`);
    else if (down > 0 && down === tol) risks.push(`${v.name} has no redundancy left (${down} of ${v.children.length} members down): one more failure loses data, back up now`);
  }
  for (const g of ['special', 'dedup'] as const) {
    for (const v of p.groups[g] ?? []) {
      if (lost(v)) risks.push(`the ${ROLE[g]} ${v.name} is down: the pool's metadata lives there, the pool cannot work without it`);
    }
  }

  const failed = data.flatMap(leavesOf).filter((l) => DOWN.has(l.state) && l.state !== 'OFFLINE');
  const wholeVdev = data.find((v) => v.children.length >= 2 && leavesOf(v).every((l) => DOWN.has(l.state) && l.state !== 'OFFLINE'));
  let sharedCause = '';
  if (failed.length >= 3 || wholeVdev) {
    const names = failed.map((l) => `${l.name} ${l.state}`).join(', ');
    sharedCause =
      `${failed.length} disks failed at once${wholeVdev ? ` (all of ${wholeVdev.name})` : ''}: ${names}. ` +
      'Disks rarely die together; suspect what they share: the controller/HBA, a backplane or enclosure, a cable, or power. ' +
      'Check those before replacing disks.';
  }

  const aux: string[] = [];
  for (const g of ['logs', 'cache', 'special', 'dedup', 'spares'] as const) {
    for (const l of (p.groups[g] ?? []).flatMap(leavesOf)) {
      if (FINE.has(l.state)) continue;
      const note = g === 'cache' ? ' (a read cache only: no data is lost, reads are slower)' : '';
      aux.push(`${ROLE[g]} ${l.name} is ${l.state}${note}`);
    }
  }
  return { atRisk: risks.length > 0, risk: risks.join('. '), sharedCause, auxDevices: aux.join('; '), unprotected };
}
