/**
 * The "notify" job: delivers one report revision on one channel, exactly once as far as labwatch
 * can tell. The ledger records the intent before sending and the outcome right after, before the
 * job completes, through a connection that waits out a Redis blip; a final failure (bad
 * credentials, refused recipient) is not retried.
 */
import { FinalError, type Handler } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Circuit } from './circuit.ts';
import { NotifyError, type MessageAction, type Notifier } from './notifier.ts';
import { messageFor, type RenderOptions } from './render.ts';
import { INTENT_SETTLE_MS, type DeliveryLedger } from './ledger.ts';
import type { Reports } from './state.ts';
import type { ActionLinks } from './action-links.ts';

export function notifyHandler(
  deps: {
    /** triage's reports: the one to send, or an extra message about it (a reminder) */
    reports: Reports;
    ledger: DeliveryLedger;
    notifiers: Map<string, Notifier>;
    circuits: Map<string, Circuit>;
    log: Logger;
    metrics: Metrics;
    /** signs the Acknowledge / Snooze links of messages about open incidents (with publicUrl) */
    links?: Pick<ActionLinks, 'actionsFor'>;
  } & RenderOptions,
): Handler<'notify'> {
  return async ({ incidentId, revision, channel, variant }, ctx) => {
    const log = deps.log.child({ incident: incidentId, revision, channel, ...(variant ? { variant } : {}) });
    const deliveryKey = variant ? `${revision}-${variant}` : revision;
    const known = await deps.ledger.state(incidentId, deliveryKey, channel);
    if (known.state === 'delivered') {
      deps.metrics.notifications.inc({ channel, outcome: 'duplicate' });
      log.info('already delivered on this channel; not sending again');
      return;
    }
    if (known.state === 'uncertain') {
      // A send began and left no outcome. Its sender may still be about to record it (it lost
      // Redis and this job was taken over): give it time. Past that, the sender is gone and the
      // message may not have left: send it again (email keeps its Message-ID, so mail clients
      // show one message).
      const age = Date.now() - known.since;
      if (age < INTENT_SETTLE_MS) throw await ctx.postpone(Math.min(INTENT_SETTLE_MS - age, 5_000) + Math.floor(Math.random() * 500));
      log.warn({ since: new Date(known.since).toISOString(), job: known.job }, 'an earlier send stopped before its outcome was recorded; sending again');
    }
    const notifier = deps.notifiers.get(channel);
    if (!notifier) throw new FinalError(`notify: channel "${channel}" is no longer configured; the report stays in Redis`);
    const report = await deps.reports.getReport(incidentId, revision, variant);
    if (!report) throw new FinalError(`notify: report ${incidentId} revision ${revision} is gone from Redis (past retention?)`);

    // A channel that keeps failing is left alone for a while; waiting costs no attempt.
    const circuit = deps.circuits.get(channel);
    const wait = circuit?.waitMs() ?? 0;
    if (wait > 0) {
      deps.metrics.notifications.inc({ channel, outcome: 'circuit_open' });
      throw await ctx.postpone(wait + Math.floor(Math.random() * 1000));
    }

    // Fresh links per message (a retry mints new ones). Without them the message still goes out.
    let actions: MessageAction[] | undefined;
    if (notifier.takesActions && deps.links && deps.publicUrl && report.kind !== 'resolved') {
      actions = await deps.links.actionsFor(incidentId, deps.publicUrl).catch((err: Error) => {
        log.warn({ err: err.message }, 'could not sign the Acknowledge / Snooze links; sending without them');
        return undefined;
      });
    }

    let ref: string | undefined;
    await deps.ledger.intend(incidentId, deliveryKey, channel, ctx.id);
    try {
      ref = await notifier.send(messageFor(report, deps, actions));
    } catch (err) {
      await deps.ledger.failed(incidentId, deliveryKey, channel, (err as Error).message);
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
    await deps.ledger.sent(incidentId, deliveryKey, channel, ref);
    deps.metrics.notifications.inc({ channel, outcome: 'sent' });
    log.info({ ref, kind: report.kind }, 'delivered');
  };
}
