/**
 * Routing: which channels hear about an incident revision, and how — at once (`immediate`) or in
 * the next digest. Like Alertmanager's routing tree flattened: routes are tried in order, the
 * first match wins unless it says `continue`, in which case later routes may add channels.
 */
import * as z from 'zod';
import { duration } from '../config/parts.ts';
import type { Incident, Severity } from '../incidents/types.ts';
import { CHANNELS } from './channels/index.ts';
import type { Channel } from './channels/types.ts';

export const routeSchema = z.strictObject({
  match: z
    .strictObject({
      /** the incident's severity: one or several */
      severity: z.union([z.enum(['critical', 'warning', 'info']), z.array(z.enum(['critical', 'warning', 'info'])).min(1)]).optional(),
      /** labels that some anomaly of the incident carries, exactly */
      labels: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
  channels: z.array(z.string().min(1)).min(1),
  mode: z.enum(['immediate', 'digest']).default('immediate'),
  continue: z.boolean().default(false),
  /** this route's own pacing; the first matching route that sets one wins over notify.group_wait/group_interval */
  group_wait: duration.optional(),
  group_interval: duration.optional(),
});

export type Route = z.infer<typeof routeSchema>;
export type Delivery = 'immediate' | 'digest';

/**
 * The routes when `notify.routes` is not set: each severity goes to every channel, at once or in
 * the digest as the channel declares (`delivery`). With email and ntfy that is: critical → both at
 * once; warning → ntfy at once, email in the digest; info → both in the digest.
 */
function defaultRoutes(channels: readonly Pick<Channel, 'name' | 'delivery'>[]): Route[] {
  const out: Route[] = [];
  for (const severity of ['critical', 'warning', 'info'] as const) {
    const now = channels.filter((c) => c.delivery[severity] === 'immediate').map((c) => c.name);
    const later = channels.filter((c) => c.delivery[severity] === 'digest').map((c) => c.name);
    if (now.length) out.push({ match: { severity }, channels: now, mode: 'immediate', continue: later.length > 0 });
    if (later.length) out.push({ match: { severity }, channels: later, mode: 'digest', continue: false });
  }
  return out;
}

export const DEFAULT_ROUTES: Route[] = defaultRoutes(CHANNELS);

function matches(route: Route, incident: Incident): boolean {
  const sev = route.match.severity;
  if (sev !== undefined && !(Array.isArray(sev) ? sev : [sev]).includes(incident.severity as Severity)) return false;
  const labels = route.match.labels;
  if (labels) {
    const anyCarries = Object.values(incident.anomalies).some((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    if (!anyCarries) return false;
  }
  return true;
}

/**
 * The delivery for each configured channel. A channel named by several matching routes is sent
 * at once if any of them says immediate. Channels not configured are skipped; with no channel
 * configured, everything goes to the log at once.
 */
export function route(incident: Incident, routes: Route[], configured: string[]): Map<string, Delivery> {
  const out = new Map<string, Delivery>();
  if (configured.length === 1 && configured[0] === 'log') return new Map([['log', 'immediate']]);
  for (const r of routes) {
    if (!matches(r, incident)) continue;
    for (const ch of r.channels) {
      if (!configured.includes(ch)) continue;
      if (out.get(ch) !== 'immediate') out.set(ch, r.mode);
    }
    if (!r.continue) break;
  }
  return out;
}

export interface Pacing {
  /** wait this long after an incident opens (or escalates to critical, or resolves) before reporting */
  waitMs: number;
  /** at most one update per incident per this interval */
  intervalMs: number;
}

/** The pacing of an incident: the first matching route that sets a value wins, else the defaults. */
export function pacing(incident: Incident, routes: Route[], defaults: Pacing, toMs: (d: string) => number): Pacing {
  let waitMs: number | undefined;
  let intervalMs: number | undefined;
  for (const r of routes) {
    if (!matches(r, incident)) continue;
    if (waitMs === undefined && r.group_wait !== undefined) waitMs = toMs(r.group_wait);
    if (intervalMs === undefined && r.group_interval !== undefined) intervalMs = toMs(r.group_interval);
  }
  return { waitMs: waitMs ?? defaults.waitMs, intervalMs: intervalMs ?? defaults.intervalMs };
}
