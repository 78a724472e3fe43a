/**
 * What a notification channel is to the rest of labwatch: one folder under notify/channels/ that
 * exports one value of this shape, listed once in channels/index.ts. The config schema, the
 * secrets the loader reads, the notifiers the daemon builds, the default routes, `check` and
 * `notify test` all derive from that list; nothing outside the channel's folder names it.
 */
import type * as z from 'zod';
import type { SecretSpec } from '../../config/parts.ts';
import type { Severity } from '../../incidents/types.ts';
import type { Logger } from '../../telemetry/log.ts';
import type { Notifier } from '../notifier.ts';

export interface Channel<C = any> {
  /** the key under `notify:` and the name routes use */
  name: string;
  /** one line for `--help` and `check` */
  description: string;
  /** its block under `notify.<name>` (defaults inside; optional in the file: absent = not configured) */
  config: z.ZodType<C>;
  /** secrets inside its block, each a `*_file` key plus an environment variable */
  secrets?: SecretSpec[];
  /**
   * How it hears about each severity when no `notify.routes` are set: at once, or in the daily
   * digest. Channels that ring a phone take warnings at once; a mailbox takes them in the digest.
   */
  delivery: Record<Severity, 'immediate' | 'digest'>;
  /** the sender, given its block and its secrets by `file` key */
  create(block: C, secrets: Record<string, string>, ctx: { log: Logger }): Notifier;
}
