/**
 * Announcing a new report: triage makes it and hands it here (wired in daemon.ts); from then on
 * it is notify's. A flapping group's messages are held back; otherwise routes, quiet hours and
 * the digest decide who hears it and when, and any message sent restarts the repeat clock.
 */
import type { Incident } from '../incidents/types.ts';
import type { Report } from '../triage/report.ts';
import { dispatch, type DispatchSettings } from './dispatch.ts';
import type { Flapping } from './flapping.ts';
import type { NotifyState } from './state.ts';

export function announcer(deps: { state: NotifyState; dispatch: DispatchSettings; flapping?: Flapping }): (view: Incident, report: Report, now: Date) => Promise<void> {
  return async (view, report, now) => {
    if (await deps.flapping?.hold(view, report, now)) return;
    if ((await dispatch(deps.dispatch, view, now)) === 0) return;
    const last = await deps.state.lastAnnounced(view.id);
    await deps.state.markAnnounced(view.id, now.toISOString(), last?.reminders ?? 0);
  };
}
