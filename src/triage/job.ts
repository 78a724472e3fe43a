/**
 * The "triage" job: makes the report for one incident revision (once; a retried job reuses the
 * saved report) and queues one notify job per channel.
 */
import type { IncidentStore } from '../incidents/store.ts';
import { jobId, type Handler, type JobQueues } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Triager } from './index.ts';
import { route, type Route } from '../notify/routes.ts';

export function triageHandler(deps: {
  store: IncidentStore;
  triager: Triager;
  queues: JobQueues;
  channels: string[];
  routes: Route[];
  log: Logger;
  metrics: Metrics;
}): Handler<'triage'> {
  return async ({ incidentId, revision }) => {
    const log = deps.log.child({ incident: incidentId, revision });
    const incident = await deps.store.getRevision(incidentId, revision);
    if (!incident) {
      log.warn('incident revision no longer in Redis (past retention?); nothing to triage');
      return;
    }
    let report = await deps.store.getReport(incidentId, revision);
    if (!report) {
      report = await deps.triager.investigate(incident);
      await deps.store.saveReport(report);
      deps.metrics.reports.inc({ kind: report.kind, producer: report.producer });
      log.info({ kind: report.kind, producer: report.producer }, 'report ready');
    }
    for (const [channel, delivery] of route(incident, deps.routes, deps.channels)) {
      if (delivery === 'digest') {
        deps.metrics.notifications.inc({ channel, outcome: 'digest' });
        continue; // the digest lists it
      }
      await deps.queues.add('notify', { incidentId, revision, channel }, jobId('notify', incidentId, revision, channel));
    }
  };
}
