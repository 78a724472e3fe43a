/**
 * Announcing a new report: triage makes it and hands it here (wired in daemon.ts); from then on
 * it is notify's. A flapping group's messages are held back, and so are a snoozed incident's
 * updates that escalate nothing; otherwise routes, quiet hours and
 * the digest decide who hears it and when, and any message sent restarts the repeat clock.
 */
import type { Attention } from '../incidents/actions.ts';
import { SEVERITY_RANK, type Incident } from '../incidents/types.ts';
import type { Report } from '../triage/report.ts';
import { dispatch, type DispatchSettings } from './dispatch.ts';
import type { Flapping } from './flapping.ts';
import type { NotifyState } from './state.ts';

export function announcer(deps: { state: NotifyState; dispatch: DispatchSettings; flapping?: Flapping; attention?: (id: string) => Promise<Attention> }): (view: Incident, report: Report, now: Date) => Promise<void> {
  return async (view, report, now) => {
    if (await deps.flapping?.hold(view, report, now)) return;
    // A snoozed incident's updates wait in the dashboard; an escalation or its resolution still goes out.
    const snoozed = report.kind === 'updated' ? (await deps.attention?.(view.id))?.snoozedUntil : undefined;
    if (snoozed && SEVERITY_RANK[view.severity] <= SEVERITY_RANK[snoozed.severity ?? 'critical']) {
      deps.dispatch.log.info({ incident: view.id, revision: view.revision }, 'incident snoozed: update not sent (shown on the dashboard)');
      return;
    }
    if ((await dispatch(deps.dispatch, view, now)) === 0) return;
    const last = await deps.state.lastAnnounced(view.id);
    await deps.state.markAnnounced(view.id, now.toISOString(), last?.reminders ?? 0);
  };
}
