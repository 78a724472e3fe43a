/**
 * One poll of a TrueNAS SCALE NAS over its one WebSocket connection: pools and their vdevs (as
 * the zfs collector's observations), drives (as the smartctl collector's), TrueNAS's own alerts,
 * replication / cloud sync / snapshot tasks, apps and interfaces. Calls go one after another (the
 * server limits concurrent calls). A part that fails is reported once, in the poll's
 * `collector:truenas/<host>` observation, and the rest is still read; when the connection drops
 * or the NAS stops answering, the rest of this poll is skipped (one error, not one per part) and
 * the next poll reconnects. A NAS that cannot be reached or logged into at all fails the poll.
 */
import { poolObservations } from '../zfs/collect.ts';
import type { Collector, Observation } from '../types.ts';
import { alertObservations } from './alerts.ts';
import { diskSubject, driveObservations, membership } from './disks.ts';
import { interfaceObservations } from './network.ts';
import { poolFromTrueNas, type TnPool } from './pools.ts';
import { nasDown, type TnDisk, type TnSmartResult, type TrueNasReader } from './read.ts';
import { appObservations, taskObservations, taskRows } from './tasks.ts';

/** Self-test logs change when a test ran (daily at most): read them once an hour, not every poll. */
const SMART_TTL_MS = 60 * 60_000;

export function truenasCollector(opts: { reader: TrueNasReader }): Collector {
  const { reader } = opts;
  const seenAlerts = new Set<string>();
  let smart: { at: number; results: TnSmartResult[] | undefined } | undefined;
  return {
    name: 'truenas',
    collect: async (signal) => {
      const now = new Date();
      const at = now.toISOString();
      const info = await reader.info(signal);
      const host = info.hostname;
      const out: Observation[] = [];
      const errors: string[] = [];
      let down = false;
      /** one part of the poll: its failure is noted, and a lost connection skips the parts after it */
      const part = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
        if (down) return undefined;
        try {
          return await read();
        } catch (e) {
          if (signal.aborted) throw e;
          errors.push(`${what}: ${(e as Error).message}`);
          if (nasDown(e)) down = true;
          return undefined;
        }
      };

      const pools = (await part('pools', () => reader.pools(signal))) ?? ([] as TnPool[]);
      const disks = (await part('disks', () => reader.disks(signal))) ?? ([] as TnDisk[]);
      const { poolOf, diskOfVdev } = membership(pools, disks);
      for (const p of pools)
        for (const o of poolObservations(poolFromTrueNas(p), host, now)) {
          const d = o.kind === 'vdev' ? diskOfVdev.get(`${p.name}/${String(o.values.name)}`) : undefined;
          // a vdev is named by partition UUID on TrueNAS: its drive's serial makes it disk:<serial>
          out.push({ ...o, source: 'truenas', reading: 'zfs', ...(d ? { aliases: [diskSubject(d, host)] } : {}) });
        }

      if (disks.length) {
        const temps = (await part('disk temperatures', () => reader.temperatures(disks.map((d) => d.name), signal))) ?? {};
        if (!smart || now.getTime() - smart.at > SMART_TTL_MS) {
          const results = await part('SMART self-tests', () => reader.smartResults(signal));
          if (results !== undefined || !down) smart = { at: now.getTime(), results };
        }
        out.push(...driveObservations(disks, temps, smart?.results, poolOf, host, at));
      }

      const alerts = await part('alerts', () => reader.alerts(signal));
      if (alerts) out.push(...alertObservations(alerts, disks, poolOf, seenAlerts, host, at));

      const replications = await part('replication tasks', () => reader.replications(signal));
      const syncs = await part('cloud sync tasks', () => reader.cloudSyncs(signal));
      const snapshots = await part('snapshot tasks', () => reader.snapshotTasks(signal));
      out.push(...taskObservations(taskRows(replications, syncs, snapshots), host, at));
      const apps = await part('apps', () => reader.apps(signal));
      if (apps) out.push(...appObservations(apps, host, at));
      const ifaces = await part('interfaces', () => reader.interfaces(signal));
      if (ifaces) out.push(...interfaceObservations(ifaces, host, at));

      out.push({
        source: 'truenas',
        kind: 'collector',
        subject: `collector:truenas/${host}`,
        host,
        at,
        values: { ok: errors.length === 0, error: errors.join('; '), version: info.version },
      });
      return out;
    },
  };
}
