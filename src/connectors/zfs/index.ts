/** ZFS pools through zpool: state, vdevs and their error counters, scrubs, capacity, events. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import { onPath, watching } from '../binary.ts';
import type { Connector } from '../types.ts';
import { cron, enabled } from '../watch-parts.ts';
import { zfsCollector } from './collect.ts';
import { ZfsReader } from './read.ts';
import { zfsTools } from './tools.ts';

const watch = z
  .strictObject({
    /** auto: on when zpool is found on PATH */
    enabled: enabled.default('auto'),
    schedule: cron.default('*/5 * * * *'),
    timeout: duration.default('2m'),
    zpool: z.string().default('zpool'),
  })
  .prefault({});

/**
 * One reader per watch config, shared by the collector and the tools, so whether zpool speaks
 * JSON is probed once (not once by the collector and again by the tools).
 */
const readers = new WeakMap<object, ZfsReader>();
function readerFor(w: z.infer<typeof watch>): ZfsReader {
  let r = readers.get(w);
  if (!r) readers.set(w, (r = new ZfsReader({ zpool: w.zpool, timeoutMs: ms(w.timeout) })));
  return r;
}

export const zfs: Connector<undefined, z.infer<typeof watch>> = {
  name: 'zfs',
  description: 'ZFS pools read with zpool: state, vdev errors, scrubs, capacity and events',
  covers: 'ZFS pools (state, vdevs and their error counters, scrubs, capacity, events)',
  start: ['zfs_list_pools'],
  watch,
  forceable: true,
  local: true,
  enabled: ({ watch: w, log }) => watching('zfs', w.enabled, w.zpool, log),
  ready: async ({ watch: w }) => (onPath(w.zpool) ? null : `${w.zpool} is not installed or not on PATH (apt install zfsutils-linux)`),
  collectors: ({ watch: w, host, jitterMs }) => [
    { collector: zfsCollector({ host, reader: readerFor(w) }), schedule: w.schedule, timeoutMs: ms(w.timeout), jitterMs },
  ],
  tools: ({ watch: w }) => zfsTools(readerFor(w)),
};
