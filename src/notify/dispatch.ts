/**
 * From a report to notify jobs: routes decide the channels and whether each hears at once or in
 * the digest; quiet hours hold back what is not critical. Used for every revision and every
 * reminder, so both follow the same rules.
 */
import type { Incident } from '../incidents/types.ts';
import { jobId, type JobQueues } from '../queue/index.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { quietFor, type QuietHours } from './quiet.ts';
import { route, type Route } from './routes.ts';

export interface DispatchSettings {
  queues: JobQueues;
  channels: string[];
  routes: Route[];
  quietHours?: QuietHours;
  metrics: Metrics;
  log: Logger;
}

/** Queues the notify jobs for one message about `incident`; returns how many go out (now or after quiet hours). */
export async function dispatch(s: DispatchSettings, incident: Incident, now: Date, variant?: string): Promise<number> {
  // A resolution is not critical news, even of a critical incident.
  const critical = incident.severity === 'critical' && incident.kind !== 'resolved';
  const quiet = critical ? 0 : quietFor(s.quietHours, now);
  let queued = 0;
  for (const [channel, planned] of route(incident, s.routes, s.channels)) {
    const delivery = quiet > 0 && planned === 'immediate' && s.quietHours?.mode === 'digest' ? 'digest' : planned;
    if (delivery === 'digest') {
      s.metrics.notifications.inc({ channel, outcome: 'digest' });
      continue; // the digest lists it
    }
    if (quiet > 0) {
      s.metrics.notifications.inc({ channel, outcome: 'quiet_hours' });
      s.log.info({ incident: incident.id, channel, waitMs: quiet }, 'quiet hours: held until they end');
    }
    const id = variant ? jobId('notify', incident.id, incident.revision, channel, variant) : jobId('notify', incident.id, incident.revision, channel);
    await s.queues.add('notify', { incidentId: incident.id, revision: incident.revision, channel, ...(variant ? { variant } : {}) }, id, quiet);
    queued++;
  }
  return queued;
}
