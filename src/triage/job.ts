/**
 * The "triage" job: makes an incident's next report once it is due and hands it to notify
 * (`announce`), which decides who hears it. A job does not stand for one revision: it claims the
 * incident (one report at a time, whichever process runs it), reports the incident as it is now
 * with everything that changed since the last report, and releases it. News that arrives meanwhile
 * is due again after group_interval. A retried job resumes its claim and reuses the saved report,
 * so nothing is made twice (and notify's job ids keep anything from being sent twice).
 */
import type { IncidentStore } from '../incidents/store.ts';
import type { Incident } from '../incidents/types.ts';
import { newsSince } from '../incidents/news.ts';
import type { Handler } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Triager } from './index.ts';
import type { Report } from './report.ts';
import type { ReportStore } from './reports.ts';

export function triageHandler(deps: {
  store: IncidentStore;
  reports: ReportStore;
  triager: Triager;
  /** hands the report over to notify (notify/announce.ts) */
  announce: (view: Incident, report: Report, now: Date) => Promise<void>;
  /** queues the incident's report job for a later due time */
  requeue: (incidentId: string, due: number) => Promise<void>;
  now?: () => Date;
  log: Logger;
  metrics: Metrics;
}): Handler<'triage'> {
  const clock = deps.now ?? (() => new Date());
  return async ({ incidentId, revision: legacy }, ctx) => {
    const { store, reports } = deps;
    const log = deps.log.child({ incident: incidentId });
    // A job queued before pacing existed names a revision and has no outbox entry of its own.
    const claim = await store.claimReport(incidentId, ctx.id, clock().getTime(), legacy !== undefined);
    if (claim.state === 'none') return; // an earlier job already reported everything
    if (claim.state === 'later') return deps.requeue(incidentId, claim.due);
    if (claim.state === 'busy') throw await ctx.postpone(2000 + Math.floor(Math.random() * 1000));

    const incident = await store.getIncident(incidentId);
    const reported = incident ? await store.reportedRevision(incidentId, incident.revision) : 0;
    if (!incident || incident.revision <= reported) {
      if (!incident) log.warn('incident no longer in Redis (past retention?); nothing to report');
      return store.finishReport(incidentId, ctx.id, reported);
    }
    if (reported === 0 && incident.status === 'resolved') {
      // As Alertmanager does: what resolved within group_wait was never news (the digest lists it).
      log.info({ revision: incident.revision }, 'resolved before its first report was due; nothing is sent');
      return store.finishReport(incidentId, ctx.id, incident.revision);
    }
    const before = reported > 0 ? await reports.getRevision(incidentId, reported) : null;
    const view: Incident = {
      ...incident,
      kind: reported === 0 ? 'opened' : incident.status === 'resolved' ? 'resolved' : 'updated',
      changes: reported > 0 && !before ? incident.changes : newsSince(before, incident),
    };
    await reports.saveSnapshot(view, reported);
    const rlog = log.child({ revision: view.revision });
    let report = await reports.getReport(incidentId, view.revision);
    if (!report) {
      report = await deps.triager.investigate(view);
      await reports.saveReport(report);
      deps.metrics.reports.inc({ kind: report.kind, producer: report.producer });
      rlog.info({ kind: report.kind, producer: report.producer, revisionsSinceLast: view.revision - reported }, 'report ready');
    }
    await deps.announce(view, report, clock());
    await store.finishReport(incidentId, ctx.id, view.revision);
  };
}
