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
import { quietFor, type QuietHours } from '../notify/quiet.ts';

export function triageHandler(deps: {
  store: IncidentStore;
  triager: Triager;
  queues: JobQueues;
  channels: string[];
  routes: Route[];
  quietHours?: QuietHours;
  now?: () => Date;
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
    // Quiet hours hold back what is not critical (a resolution of a critical incident is not critical news).
    const quiet = incident.severity === 'critical' && incident.kind !== 'resolved' ? 0 : quietFor(deps.quietHours, (deps.now ?? (() => new Date()))());
    for (const [channel, planned] of route(incident, deps.routes, deps.channels)) {
      const delivery = quiet > 0 && planned === 'immediate' && deps.quietHours?.mode === 'digest' ? 'digest' : planned;
      if (delivery === 'digest') {
        deps.metrics.notifications.inc({ channel, outcome: 'digest' });
        continue; // the digest lists it
      }
      if (quiet > 0) {
        deps.metrics.notifications.inc({ channel, outcome: 'quiet_hours' });
        log.info({ channel, waitMs: quiet }, 'quiet hours: held until they end');
      }
      await deps.queues.add('notify', { incidentId, revision, channel }, jobId('notify', incidentId, revision, channel), quiet);
    }
  };
}
