/** Pieces of the `watch.<name>` blocks that every polling connector shares. */
import * as z from 'zod';

export const cron = z.string().regex(/^(\S+\s+){4,5}\S+$/, 'a cron expression with 5 or 6 fields, e.g. "*/30 * * * *"');

/** true, false, or auto: on when the system's command is installed */
export const enabled = z.union([z.boolean(), z.literal('auto')]);
