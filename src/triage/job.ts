/**
 * The "triage" job: makes the report for one incident revision (once; a retried job reuses the
 * saved report) and queues one notify job per channel.
 */
import type { IncidentStore } from '../incidents/store.ts';
import type { Handler } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Triager } from './index.ts';
import { dispatch, type DispatchSettings } from '../notify/dispatch.ts';
import type { Flapping } from '../notify/flapping.ts';

export function triageHandler(deps: {
  store: IncidentStore;
  triager: Triager;
  dispatch: DispatchSettings;
  flapping?: Flapping;
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
    const now = (deps.now ?? (() => new Date()))();
    if (await deps.flapping?.hold(incident, now)) return; // held; announced when it settles
    if ((await dispatch(deps.dispatch, incident, now)) > 0) {
      // Any announcement restarts the repeat clock.
      const last = await deps.store.lastAnnounced(incidentId);
      await deps.store.markAnnounced(incidentId, now.toISOString(), last?.reminders ?? 0);
    }
  };
}
