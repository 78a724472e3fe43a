/** Drives' SMART health through smartctl: never waking a sleeping disk (read.ts). */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import { onPath, watching } from '../binary.ts';
import type { Connector } from '../types.ts';
import { smartCollector } from './collect.ts';
import { SmartReader } from './read.ts';
import { smartTools } from './tools.ts';
import { cron, enabled } from '../watch-parts.ts';

const watch = z
  .strictObject({
    /** auto: on when smartctl is found on PATH */
    enabled: enabled.default('auto'),
    schedule: cron.default('*/30 * * * *'),
    timeout: duration.default('5m'),
    smartctl: z.string().default('smartctl'),
  })
  .prefault({});

export const smart: Connector<undefined, z.infer<typeof watch>> = {
  name: 'smart',
  description: "drives' SMART health, read with smartctl without waking a sleeping disk",
  covers: 'drives (SMART: health, wear, error counters, self-tests)',
  start: ['smart_list_drives'],
  watch,
  forceable: true,
  local: true,
  enabled: ({ watch: w, log }) => watching('smart', w.enabled, w.smartctl, log),
  ready: async ({ watch: w }) => (onPath(w.smartctl) ? null : `${w.smartctl} is not installed or not on PATH (apt install smartmontools)`),
  collectors: ({ watch: w, host, jitterMs }) => [
    {
      collector: smartCollector({ host, reader: new SmartReader({ smartctl: w.smartctl, timeoutMs: Math.min(ms(w.timeout), 60_000) }) }),
      schedule: w.schedule,
      timeoutMs: ms(w.timeout),
      jitterMs,
    },
  ],
  tools: ({ watch: w, history }) => smartTools(new SmartReader({ smartctl: w.smartctl }), history),
};
