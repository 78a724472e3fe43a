/**
 * Flapping: an alert that fires, resolves and fires again within minutes would send a message
 * each time. When a group changes state `changes` times within `window`, labwatch sends one
 * notice saying so (with the count) and holds back its messages; once the group has been stable
 * for a whole window, the state it settled in is announced once.
 */
import type { Incident } from '../incidents/types.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Report } from '../triage/report.ts';
import type { NotifyStores } from './state.ts';
import { every } from '../util/every.ts';
import { dispatch, type DispatchSettings } from './dispatch.ts';

export interface FlapSettings {
  windowMs: number;
  /** state changes within the window that make a group flapping */
  changes: number;
}

export class Flapping {
  #stop: (() => void) | undefined;

  constructor(
    private readonly stores: NotifyStores,
    private readonly dispatchSettings: DispatchSettings,
    private readonly settings: FlapSettings,
    private readonly log: Logger,
  ) {}

  /**
   * Called for each new revision and its report before they are announced. Returns true when its
   * messages must be held back (the group is flapping); sends the one flapping notice when the
   * group starts to flap.
   */
  async hold(incident: Incident, base: Report, now: Date): Promise<boolean> {
    const { state: notes } = this.stores;
    if (incident.kind !== 'opened' && incident.kind !== 'resolved') return (await notes.flapping()).has(incident.groupKey);
    const t = now.getTime();
    const changes = await notes.recordChange(incident.groupKey, `${incident.id}|${incident.revision}`, t, this.settings.windowMs);
    const state = (await notes.flapping()).get(incident.groupKey);
    if (state) {
      await notes.setFlapping(incident.groupKey, { ...state, last: t, changes: state.changes + 1 });
      this.#held();
      return true;
    }
    if (changes < this.settings.changes) return false;
    // Two revisions may cross the threshold at once: only the one that claims the group sends the notice.
    if (!(await notes.startFlapping(incident.groupKey, { since: t, last: t, changes }))) {
      this.#held();
      return true;
    }
    const minutes = Math.round(this.settings.windowMs / 60_000);
    const notice: Report = {
      ...base,
      kind: 'flapping',
      variant: 'flapping',
      summary: `${incident.title} changed state ${changes} times in the last ${minutes} minutes (firing, resolved, firing …). labwatch holds back further messages about it until it has been stable for ${minutes} minutes, then says where it settled.`,
      changes: [`${changes} state changes in ${minutes} minutes`],
      createdAt: now.toISOString(),
    };
    await this.stores.reports.saveReport(notice);
    await dispatch(this.dispatchSettings, { ...incident, kind: 'opened' }, now, 'flapping');
    this.log.warn({ incident: incident.id, changes }, 'flapping: one notice sent, further messages held until it settles');
    return true;
  }

  #held(): void {
    for (const channel of this.dispatchSettings.channels) this.dispatchSettings.metrics.notifications.inc({ channel, outcome: 'flapping' });
  }

  /** Announces groups that have been stable for a whole window, in the state they settled in. */
  async settle(now = new Date()): Promise<number> {
    let settled = 0;
    const { incidents, reports, state: notes } = this.stores;
    for (const [groupKey, state] of await notes.flapping()) {
      if (now.getTime() - state.last < this.settings.windowMs) continue;
      await notes.setFlapping(groupKey, null);
      const latest = await incidents.groupIncident(groupKey);
      if (!latest || latest.revision === 0) continue;
      // What was last reported: news since then has its own report coming.
      const reported = await incidents.reportedRevision(latest.id, latest.revision);
      const incident = reported > 0 ? await reports.getRevision(latest.id, reported) : null;
      if (!incident) continue;
      const report = await reports.getReport(incident.id, incident.revision);
      if (report) {
        const minutes = Math.round((state.last - state.since) / 60_000);
        await reports.saveReport({ ...report, notes: [...report.notes, `It settled after flapping: ${state.changes} state changes over ${minutes} minutes.`] });
      }
      await dispatch(this.dispatchSettings, incident, now);
      this.log.info({ incident: incident.id, status: incident.status, changes: state.changes }, 'flapping settled: announcing where it ended');
      settled++;
    }
    return settled;
  }

  start(everyMs = 30_000): void {
    this.#stop = every(everyMs, () => this.settle(), (e) => this.log.warn({ err: e.message }, 'flapping check failed; next one soon'));
  }

  stop(): void {
    this.#stop?.();
  }
}
