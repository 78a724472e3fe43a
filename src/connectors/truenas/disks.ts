/**
 * The NAS's drives (`disk.query`, `disk.temperatures`, and `smart.test.results` where the release
 * still has it) as the same `drive` observations the smartctl collector makes (reading 'smart'),
 * so a drive is one subject, disk:<serial>, whichever path saw it, and the SMART rules apply.
 * TrueNAS gives no SMART attributes through its API: temperature, identity and the self-test log.
 */
import { driveObservation } from '../smart/collect.ts';
import { decodeExitStatus } from '../smart/parse.ts';
import type { DriveHealth, SelfTestSummary } from '../smart/types.ts';
import type { Observation } from '../types.ts';
import { leafVdevs, type TnPool } from './pools.ts';
import type { TnDisk, TnSmartResult } from './read.ts';

const known = (s: string | null | undefined): s is string => !!s && s.trim() !== '' && !/^(unknown|n\/a|none)$/i.test(s.trim());

/** `disk:<serial>`, or the NAS's own name for a drive without one. */
export function diskSubject(d: TnDisk, host: string): string {
  return known(d.serial) ? `disk:${d.serial.trim()}` : `disk:${host}:${d.name}`;
}

/** "sda" or "/dev/sda" → the disk the NAS names so. */
export function diskByName(disks: TnDisk[], name: string): TnDisk | undefined {
  const n = name.replace(/^\/dev\//, '');
  return disks.find((d) => d.name === n || d.devname === n);
}

/** Which pool each drive is in, and the drive behind each leaf vdev (by ZFS GUID, else by disk name). */
export function membership(pools: TnPool[], disks: TnDisk[]): { poolOf: Map<string, string>; diskOfVdev: Map<string, TnDisk> } {
  const poolOf = new Map<string, string>();
  const diskOfVdev = new Map<string, TnDisk>();
  for (const p of pools)
    for (const v of leafVdevs(p)) {
      const d = (v.guid ? disks.find((x) => x.zfs_guid && x.zfs_guid === v.guid) : undefined) ?? (v.disk ? diskByName(disks, v.disk) : undefined);
      if (!d) continue;
      diskOfVdev.set(`${p.name}/${v.name}`, d);
      poolOf.set(d.identifier || d.name, p.name);
    }
  return { poolOf, diskOfVdev };
}

/** TrueNAS's self-test statuses: SUCCESS, RUNNING, ABORTED, FAILED, …; only a finished, failed test counts. */
function selfTestOf(r: TnSmartResult | undefined): SelfTestSummary | undefined {
  if (!r || r.tests.length === 0) return undefined;
  const done = r.tests.filter((t) => t.status.toUpperCase() !== 'RUNNING');
  const failed = (t: TnSmartResult['tests'][number]) => !['SUCCESS', 'ABORTED', 'RUNNING'].includes(t.status.toUpperCase());
  const latest = done[0];
  const out: SelfTestSummary = { count: r.tests.length, failed: done.filter(failed).length };
  if (latest) out.latest = { type: latest.description, status: latest.status_verbose || latest.status, passed: !failed(latest), ...(typeof latest.lifetime === 'number' ? { lifetimeHours: latest.lifetime } : {}) };
  if (done.length < r.tests.length) out.inProgress = true;
  return out;
}

export function driveFromTrueNas(d: TnDisk, host: string, temperature: number | null | undefined, smart: TnSmartResult | undefined): DriveHealth {
  const drive: DriveHealth = {
    subject: diskSubject(d, host),
    device: `/dev/${d.devname || d.name}`,
    type: 'truenas-api',
    state: 'ok',
    exit: decodeExitStatus(0),
    messages: [],
  };
  if (known(d.serial)) drive.serial = d.serial.trim();
  if (known(d.model)) drive.model = d.model;
  if (typeof d.size === 'number') drive.capacityBytes = d.size;
  // TrueNAS: rotationrate null for SSD and NVMe, the RPM for an HDD
  if (typeof d.rotationrate === 'number') drive.rotationRate = d.rotationrate;
  else if (d.type.toUpperCase() === 'SSD') drive.rotationRate = 0;
  if (/nvme/i.test(d.bus) || d.name.startsWith('nvme')) drive.protocol = 'NVMe';
  if (typeof temperature === 'number' && Number.isFinite(temperature)) drive.temperatureC = temperature;
  const selfTest = selfTestOf(smart);
  if (selfTest) drive.selfTest = selfTest;
  return drive;
}

export function driveObservations(disks: TnDisk[], temps: Record<string, number | null>, smart: TnSmartResult[] | undefined, poolOf: Map<string, string>, host: string, at: string): Observation[] {
  return disks.map((d) => {
    const o = driveObservation(driveFromTrueNas(d, host, temps[d.name], smart?.find((r) => r.disk === d.name || r.disk === d.devname)), host, at);
    const pool = poolOf.get(d.identifier || d.name);
    return { ...o, source: 'truenas', reading: 'smart', values: { ...o.values, via: `TrueNAS API (${host})`, pool: pool ?? '' }, ...(pool ? { group: `pool:${pool}` } : {}) };
  });
}
