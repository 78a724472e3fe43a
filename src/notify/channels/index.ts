/**
 * THE list of notification channels. Adding one is its folder plus one line here: its config
 * block (`notify.<name>`), secrets, default routing, `check` and `notify test` are found through
 * this list alone. `log` is not in it: it is not configured, it is what reports go to when no
 * channel is.
 */
import type { Logger } from '../../telemetry/log.ts';
import { NotifyError, type Notifier } from '../notifier.ts';
import { apprise } from './apprise/index.ts';
import { email } from './email/index.ts';
import { gotify } from './gotify/index.ts';
import { LogNotifier } from './log/index.ts';
import { ntfy } from './ntfy/index.ts';
import type { Channel } from './types.ts';
import { webhook } from './webhook/index.ts';

export const CHANNELS: readonly Channel[] = [
  email,
  ntfy,
  gotify,
  apprise,
  webhook,
];

/** The channels whose `notify.<name>` block is set, in list order. */
export function configuredChannels(notify: object): string[] {
  const blocks = notify as Record<string, unknown>;
  return CHANNELS.filter((c) => blocks[c.name] !== undefined).map((c) => c.name);
}

/** Stands in for a channel whose notifier could not be built: every send fails for good, saying why. */
function broken(channel: string, why: string): Notifier {
  const fail = async (): Promise<never> => {
    throw new NotifyError(channel, why, false);
  };
  return { channel, send: fail, probe: fail, close: async () => {} };
}

/**
 * A notifier for every configured channel, each given its block and the secrets the loader read
 * for it (`cfg.secrets.blocks['notify.<name>']`, as config/schema.ts `blockSecrets` reads them;
 * not imported, as the schema imports this list). With none configured, the log notifier.
 */
export function buildNotifiers(cfg: { notify: object; secrets: { blocks?: Record<string, Record<string, string>> | undefined } }, log: Logger): Map<string, Notifier> {
  const notifiers = new Map<string, Notifier>();
  const blocks = cfg.notify as Record<string, unknown>;
  for (const c of CHANNELS) {
    const block = blocks[c.name];
    if (block === undefined) continue;
    try {
      notifiers.set(c.name, c.create(block, cfg.secrets.blocks?.[`notify.${c.name}`] ?? {}, { log: log.child({ channel: c.name }) }));
    } catch (e) {
      // One broken channel is logged and fails its own messages; the others and the daemon go on.
      log.error({ channel: c.name, err: (e as Error).message }, 'notification channel could not be set up');
      notifiers.set(c.name, broken(c.name, (e as Error).message));
    }
  }
  if (notifiers.size === 0) notifiers.set('log', new LogNotifier(log));
  return notifiers;
}
