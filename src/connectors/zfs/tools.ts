/** ZFS diagnostic tools, over the same reader the collector uses. */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import type { ZpoolEvent } from './parse-events.ts';
import type { ZfsReader } from './read.ts';

const poolName = z.string().regex(/^[A-Za-z][\w.:-]{0,254}$/, 'a ZFS pool name').describe('the pool, as zfs_list_pools shows it');

export function zfsTools(reader: ZfsReader): ToolSpec[] {
  const list = defineTool({
    name: 'zfs_list_pools',
    title: 'List ZFS pools',
    description:
      'Every ZFS pool on this host: health (ONLINE, DEGRADED, FAULTED, …), size, allocated and free bytes, capacity and fragmentation ' +
      'percentages. Call this first, then zfs_pool_status for one pool in full. An empty list means this host has no imported pools.',
    input: {},
    annotations: READ_ONLY,
    run: async (_i, signal) => {
      const pools = await reader.list(signal);
      if (pools.length === 0) return noData('no ZFS pools are imported on this host');
      return ok({ pools }, pools.map((p) => `${p.name} ${p.health} ${p.capacityPct ?? '?'}% full`).join('\n'));
    },
  });
  const status = defineTool({
    name: 'zfs_pool_status',
    title: "One pool's status",
    description:
      "The full `zpool status` of one pool: its state and status text, every vdev with its state, read/write/checksum error " +
      'counters and notes (too many errors, was /dev/…, resilvering), spares, logs, cache and special devices, the last or running ' +
      'scrub or resilver, and the errors line with any files that have permanent errors. Only pools that zfs_list_pools shows.',
    input: { pool: poolName },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      const pool = a.subject.startsWith('pool:') ? a.subject.slice(5) : a.subject.startsWith('vdev:') ? a.subject.slice(5).split('/')[0] : a.labels.pool;
      return pool ? { pool } : undefined;
    },
    run: async ({ pool }, signal) => {
      const all = await reader.status(signal);
      const p = all.find((x) => x.name === pool);
      if (!p) return failed(`no pool "${pool}" (pools: ${all.map((x) => x.name).join(', ') || 'none'}); call zfs_list_pools`);
      return ok({ pool: p as unknown as Record<string, unknown> }, `${p.name} ${p.state}; scan: ${p.scan.text ?? p.scan.kind}`);
    },
  });
  const events = defineTool({
    name: 'zfs_pool_events',
    title: "A pool's recent ZFS events",
    description:
      "The newest events the ZFS kernel module logged for one pool (`zpool events -v <pool>`), newest first: what happened and " +
      'to which device, e.g. ereport.fs.zfs.checksum (a block failed its checksum), ereport.fs.zfs.io (a read or write failed), ' +
      'ereport.fs.zfs.delay (a slow I/O), resource.fs.zfs.statechange (a device changed state: vdevState), ' +
      'sysevent.fs.zfs.scrub_start/scrub_finish/resilver_start/resilver_finish. Each has class, time, vdevPath, vdevState and ' +
      'eid, plus a count per class. Call it after zfs_pool_status shows errors or a degraded device, to see when and on which ' +
      'disk they started. The log is short and in memory: it starts empty when the ZFS module loads (a reboot) or is cleared, ' +
      'and holds only recent events, so no events means nothing was logged for this pool since then, not that the pool never ' +
      'had trouble. Only pools that zfs_list_pools shows.',
    input: { pool: poolName, limit: z.number().int().min(1).max(100).default(20).describe('how many of the newest events') },
    annotations: READ_ONLY,
    run: async ({ pool, limit }, signal) => {
      const pools = await reader.list(signal);
      if (!pools.some((p) => p.name === pool))
        return failed(`no pool "${pool}" (pools: ${pools.map((p) => p.name).join(', ') || 'none'}); call zfs_list_pools`);
      let log: { dropped: number; events: ZpoolEvent[] };
      try {
        log = await reader.events(pool, signal);
      } catch (e) {
        return failed((e as Error).message);
      }
      // zpool filters by pool itself, but an old one did not (openzfs/zfs#3285): drop events that name another pool.
      const ofPool = log.events.filter((e) => e.pool === undefined || e.pool === pool);
      const newest = ofPool.slice(-limit).reverse();
      const dropped = log.dropped > 0 ? `; the kernel dropped ${log.dropped} older events` : '';
      if (newest.length === 0)
        return noData(`no ZFS events logged for pool ${pool} since the ZFS module loaded or the log was cleared${dropped}`);
      const counts = new Map<string, number>(); // a class `constructor` is a class name, not Object's member
      for (const e of newest) counts.set(e.class, (counts.get(e.class) ?? 0) + 1);
      const perClass = Object.fromEntries(counts);
      const rows = newest.map((e) => ({
        class: e.class,
        time: e.time,
        ...(e.vdevPath !== undefined ? { vdevPath: e.vdevPath } : {}),
        ...(e.vdevState !== undefined ? { vdevState: e.vdevState } : {}),
        ...(e.eid !== undefined ? { eid: e.eid } : {}),
      }));
      const lines = newest.map((e) => [e.time, e.class, e.vdevPath, e.vdevState].filter((x) => x !== undefined).join(' '));
      const head = `${newest.length} of ${ofPool.length} events for ${pool}, newest first${dropped}`;
      return ok({ pool, total: ofPool.length, dropped: log.dropped, perClass, events: rows }, [head, ...lines].join('\n'));
    },
  });
  return [list, status, events];
}
