/** The machine labwatch runs on (systeminformation): filesystems, memory, load, interfaces and their MTU. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import type { Connector } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { hostCollector } from './collect.ts';
import { hostTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    schedule: cron.default('* * * * *'),
    timeout: duration.default('30s'),
    /** interfaces that should share one MTU, e.g. [[eno1, vmbr0]] */
    mtu_groups: z.array(z.array(z.string()).min(2)).default([]),
  })
  .prefault({});

export const host: Connector<undefined, z.infer<typeof watch>> = {
  name: 'host',
  description: 'this machine: filesystems, memory, load, CPU temperature and network interfaces (MTU)',
  covers: 'the host labwatch runs on (filesystems, memory, load, network interfaces and their MTU)',
  start: ['host_overview'],
  watch,
  forceable: true,
  local: true,
  enabled: ({ watch: w }) => w.enabled,
  collectors: ({ watch: w, host, jitterMs }) => [{ collector: hostCollector({ host, mtuGroups: w.mtu_groups }), schedule: w.schedule, timeoutMs: ms(w.timeout), jitterMs }],
  tools: () => hostTools(),
};
