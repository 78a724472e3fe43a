/**
 * The "digest" job: builds the digest for the period ending at `to` and sends it on each digest
 * channel once (the job id is the period; each channel's delivery is recorded like any other).
 */
import type { IncidentStore } from '../incidents/store.ts';
import type { DeliveryLedger } from './ledger.ts';
import type { NotifyState } from './state.ts';
import { FinalError, type Handler } from '../queue/index.ts';
import type { Latest } from '../rules/observation.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { buildDigest, digestMessage, isEmpty } from './digest.ts';
import { NotifyError, type Notifier } from './notifier.ts';

export function digestHandler(deps: {
  store: IncidentStore;
  /** holds the digest mark: the end of the last period sent */
  state: NotifyState;
  ledger: DeliveryLedger;
  /** the latest reading of every subject, for the health overview (the rules engine keeps them) */
  latest: (at: Date) => Promise<Latest[]>;
  notifiers: Map<string, Notifier>;
  channels: string[];
  sendEmpty: boolean;
  /** secretValues(config): scrubbed from the digest like from every report */
  secrets?: readonly string[];
  log: Logger;
  metrics: Metrics;
}): Handler<'digest'> {
  return async ({ to }) => {
    const end = new Date(to);
    const last = await deps.state.lastDigest();
    if (last && last >= to) {
      deps.log.info({ to }, 'digest for this period already done');
      return;
    }
    const from = last ? new Date(last) : new Date(end.getTime() - 86_400_000);
    const digest = buildDigest(await deps.store.listRecent(1000), await deps.latest(end), from, end);
    if (isEmpty(digest) && !deps.sendEmpty) {
      deps.log.info({ from: digest.from, to }, 'nothing happened in this period: no digest sent');
      await deps.state.markDigest(to);
      return;
    }
    const message = digestMessage(digest, deps.secrets ? { secrets: deps.secrets } : {});
    const channels = deps.channels.filter((c) => deps.notifiers.has(c));
    for (const channel of channels.length ? channels : [...deps.notifiers.keys()]) {
      if ((await deps.ledger.state('digest', to, channel)).state === 'delivered') continue;
      await deps.ledger.intend('digest', to, channel, `digest|${to}`);
      try {
        const ref = await deps.notifiers.get(channel)!.send(message);
        await deps.ledger.sent('digest', to, channel, ref);
        deps.metrics.notifications.inc({ channel, outcome: 'sent' });
      } catch (err) {
        await deps.ledger.failed('digest', to, channel);
        deps.metrics.notifications.inc({ channel, outcome: 'failed' });
        if (err instanceof NotifyError && !err.retryable) throw new FinalError(err.message);
        throw err; // retried; channels already delivered are skipped next time
      }
    }
    await deps.state.markDigest(to);
    deps.log.info({ from: digest.from, to, opened: digest.opened.length, resolved: digest.resolved.length, health: digest.health.length }, 'digest sent');
  };
}
