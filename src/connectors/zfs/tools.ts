/** ZFS diagnostic tools, over the same reader the collector uses. */
import * as z from 'zod';
import { failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import type { ZfsReader } from './read.ts';

const poolName = z.string().regex(/^[A-Za-z][\w.:-]{0,254}$/, 'a ZFS pool name').describe('the pool, as zfs_list_pools shows it');

export function zfsTools(reader: ZfsReader): ToolSpec[] {
  const list: ToolSpec = {
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
  };
  const status: ToolSpec<{ pool: typeof poolName }> = {
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
  };
  return [list, status as unknown as ToolSpec];
}
