/**
 * Repeats: an incident still open is announced again every `repeat_interval` with what changed
 * since (its anomalies' current summaries against the revision last announced), unless someone
 * acknowledged it or snoozed it. The sweep runs in every process; claiming reminder n is atomic,
 * so only one process sends it.
 */
import type { Incident } from '../incidents/types.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Report } from '../triage/report.ts';
import { every } from '../util/every.ts';
import { formatTime } from '../util/time.ts';
import { dispatch, type DispatchSettings } from './dispatch.ts';
import type { NotifyStores } from './state.ts';

/** What differs between the announced revision and now, in words. */
function changesSince(announced: Incident, now: Incident): string[] {
  const out: string[] = [];
  for (const [fp, a] of Object.entries(now.anomalies)) {
    const before = announced.anomalies[fp];
    if (a.status !== 'firing') continue;
    if (!before) out.push(`${a.rule} on ${a.subject || a.host}: ${a.summary}`);
    else if (before.summary !== a.summary) out.push(`${a.rule} on ${a.subject || a.host}: was "${before.summary}", now "${a.summary}"`);
  }
  return out.length ? out : ['Nothing changed since the last notice: it is still firing.'];
}

export class Reminders {
  #stop: (() => void) | undefined;

  constructor(
    private readonly stores: NotifyStores,
    private readonly dispatchSettings: DispatchSettings,
    private readonly repeatMs: number,
    private readonly log: Logger,
  ) {}

  /** Queues a reminder for every open incident whose last announcement is older than the interval. */
  async sweep(now = new Date()): Promise<number> {
    const { incidents, reports, state } = this.stores;
    let sent = 0;
    for (const id of await incidents.firingIds()) {
      const incident = await incidents.getIncident(id);
      if (!incident || incident.status !== 'firing' || incident.revision === 0) continue;
      const last = (await state.lastAnnounced(id)) ?? { at: incident.updatedAt, reminders: 0 };
      if (now.getTime() - Date.parse(last.at) < this.repeatMs) continue;
      // Someone is on it, or asked for quiet until later: no reminder.
      const attention = await this.stores.attention?.(id);
      if (attention?.acknowledged || attention?.snoozedUntil) continue;
      const reported = await incidents.reportedRevision(id, incident.revision);
      const base = await reports.getReport(id, reported);
      const announced = await reports.getRevision(id, reported);
      if (!base || !announced) continue; // its triage has not run yet
      const n = last.reminders + 1;
      if (!(await state.claimReminder(id, n))) continue;
      const report: Report = {
        ...base,
        kind: 'reminder',
        variant: `again${n}`,
        summary: `Still open since ${formatTime(incident.since)}. ${base.summary}`,
        changes: changesSince(announced, incident),
        createdAt: now.toISOString(),
      };
      await reports.saveReport(report);
      await dispatch(this.dispatchSettings, { ...incident, revision: reported }, now, `again${n}`);
      await state.markAnnounced(id, now.toISOString(), n);
      this.log.info({ incident: id, reminder: n }, 'incident still open: reminder queued');
      sent++;
    }
    return sent;
  }

  start(everyMs = 60_000): void {
    this.#stop = every(everyMs, () => this.sweep(), (e) => this.log.warn({ err: e.message }, 'reminder sweep failed; next one in a minute'));
  }

  stop(): void {
    this.#stop?.();
  }
}
