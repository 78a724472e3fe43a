/**
 * The "notify" job: delivers one report revision on one channel, exactly once as far as labwatch
 * can tell. The delivery record is checked before sending and written right after, before the
 * job completes; a final failure (bad credentials, refused recipient) is not retried.
 */
import type { IncidentStore } from '../incidents/store.ts';
import { FinalError, type Handler } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Circuit } from './circuit.ts';
import { NotifyError, type Notifier } from './notifier.ts';
import { messageFor } from './render.ts';

export function notifyHandler(deps: {
  store: IncidentStore;
  notifiers: Map<string, Notifier>;
  circuits: Map<string, Circuit>;
  publicUrl?: string;
  log: Logger;
  metrics: Metrics;
}): Handler<'notify'> {
  return async ({ incidentId, revision, channel, variant }, ctx) => {
    const log = deps.log.child({ incident: incidentId, revision, channel, ...(variant ? { variant } : {}) });
    const deliveryKey = variant ? `${revision}-${variant}` : revision;
    if (await deps.store.wasDelivered(incidentId, deliveryKey, channel)) {
      deps.metrics.notifications.inc({ channel, outcome: 'duplicate' });
      log.info('already delivered on this channel; not sending again');
      return;
    }
    const notifier = deps.notifiers.get(channel);
    if (!notifier) throw new FinalError(`notify: channel "${channel}" is no longer configured; the report stays in Redis`);
    const report = await deps.store.getReport(incidentId, revision, variant);
    if (!report) throw new FinalError(`notify: report ${incidentId} revision ${revision} is gone from Redis (past retention?)`);

    // A channel that keeps failing is left alone for a while; waiting costs no attempt.
    const circuit = deps.circuits.get(channel);
    const wait = circuit?.waitMs() ?? 0;
    if (wait > 0) {
      deps.metrics.notifications.inc({ channel, outcome: 'circuit_open' });
      throw await ctx.postpone(wait + Math.floor(Math.random() * 1000));
    }

    let ref: string | undefined;
    try {
      ref = await notifier.send(messageFor(report, deps.publicUrl));
    } catch (err) {
      const retryable = !(err instanceof NotifyError) || err.retryable;
      deps.metrics.notifications.inc({ channel, outcome: 'failed' }); // 'gave_up' is counted when the job fails for good
      if (!retryable) throw new FinalError((err as Error).message);
      const cooldown = circuit?.failure();
      if (cooldown) {
        log.error({ cooldownMs: cooldown, err: (err as Error).message }, 'channel keeps failing: pausing it; queued messages wait, none are dropped');
        throw await ctx.postpone(cooldown);
      }
      log.warn({ attempt: ctx.attemptsMade + 1, of: ctx.attempts, err: (err as Error).message }, 'delivery failed; will retry');
      throw err;
    }
    circuit?.success();
    await deps.store.markDelivered(incidentId, deliveryKey, channel, ref);
    deps.metrics.notifications.inc({ channel, outcome: 'sent' });
    log.info({ ref, kind: report.kind }, 'delivered');
  };
}
