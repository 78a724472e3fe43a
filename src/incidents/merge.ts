/**
 * The incident state machine, as a pure function: given the group's current incident (if any)
 * and a batch of anomalies for that group, return the next incident and whether it changed
 * materially (which starts triage and notification). Repeats of unchanged anomalies only move
 * `lastSeenAt`; they never start new work.
 */
import { stableHash } from '../connectors/identity.ts';
import { SEVERITY_RANK, type Anomaly, type AnomalyState, type Incident, type Severity } from './types.ts';

export interface MergeResult {
  incident: Incident;
  /** True when a new revision was made: it must be triaged and announced. */
  announce: boolean;
}

/**
 * Incident ids are readable in logs and safe as BullMQ job id parts (no ':'; never all digits).
 * They carry the opening time, so an id is never reused even after the group's state expired
 * (a delivery record that outlived it must not silence a new incident).
 */
function incidentId(groupKey: string, openedAt: string, previous?: Incident | null): string {
  let t = Date.parse(openedAt);
  if (previous && Number.isFinite(t)) t = Math.max(t, parseInt(previous.id.split('-').pop() ?? '0', 36) + 1);
  return `inc-${stableHash([groupKey], 10)}-${t.toString(36)}`;
}

function highestSeverity(states: AnomalyState[]): Severity {
  let best: Severity = 'info';
  for (const s of states) if (SEVERITY_RANK[s.severity] > SEVERITY_RANK[best]) best = s.severity;
  return best;
}

export function describe(a: Anomaly): string {
  return a.subject && a.subject !== a.host ? `${a.rule} on ${a.subject}` : `${a.rule} on ${a.host}`;
}

function titleOf(states: AnomalyState[]): { title: string; host: string } {
  const firing = states.filter((s) => s.status === 'firing');
  // The most severe, earliest seen: one pass, since an incident may hold a thousand alerts.
  let lead = (firing.length ? firing : states)[0]!;
  for (const s of firing.length ? firing : states)
    if (SEVERITY_RANK[s.severity] > SEVERITY_RANK[lead.severity] || (s.severity === lead.severity && s.firstSeenAt < lead.firstSeenAt)) lead = s;
  // The host of what is firing; alerts without a host label do not count as another host.
  const hosts = new Set((firing.length ? firing : states).map((s) => s.host).filter(Boolean));
  const others = firing.length > 1 ? ` (+${firing.length - 1} more)` : '';
  return { title: lead.summary + others, host: hosts.size <= 1 ? ([...hosts][0] ?? '') : `${hosts.size} hosts` };
}

function sinceOf(states: AnomalyState[]): string {
  const firing = states.filter((s) => s.status === 'firing');
  let since: string | undefined;
  for (const s of firing.length ? firing : states) if (since === undefined || s.startsAt < since) since = s.startsAt;
  return since!;
}

function fresh(a: Anomaly, now: string): AnomalyState {
  return { ...a, firstSeenAt: now, lastSeenAt: now, repeats: 0 };
}

export function mergeAnomalies(current: Incident | null, batch: Anomaly[], now: string): MergeResult | null {
  if (batch.length === 0) return null;
  const groupKey = batch[0]!.groupKey;
  const anyFiring = batch.some((a) => a.status === 'firing');

  // No open incident for this group: a firing anomaly opens one; a lone resolution is recorded
  // (revision 0, never announced) unless it repeats one we already closed.
  if (!current || current.status === 'resolved') {
    // A person resolved it by hand: its source re-sending the same firing (same start) does not
    // reopen it; a new start (it cleared and fired again) does.
    const live = current ? batch.filter((a) => !(a.status === 'firing' && resolvedByHand(current.anomalies, a))) : batch;
    if (current && !live.some((a) => a.status === 'firing')) return touchResolved(current, batch, now);
    batch = live;
    const seq = (current?.seq ?? 0) + 1;
    const anomalies: Record<string, AnomalyState> = {};
    for (const a of batch) anomalies[a.fingerprint] = fresh(a, now);
    const states = Object.values(anomalies);
    const firing = states.filter((s) => s.status === 'firing');
    const { title, host } = titleOf(states);
    const incident: Incident = {
      id: incidentId(groupKey, now, current),
      groupKey,
      seq,
      title,
      host,
      severity: highestSeverity(firing.length ? firing : states),
      status: anyFiring ? 'firing' : 'resolved',
      revision: anyFiring ? 1 : 0,
      kind: anyFiring ? 'opened' : 'resolved',
      changes: anyFiring ? firing.map((s) => `${describe(s)} started firing`) : [],
      openedAt: now,
      since: sinceOf(states),
      updatedAt: now,
      lastSeenAt: now,
      ...(anyFiring ? {} : { resolvedAt: now }),
      anomalies,
    };
    return { incident, announce: anyFiring };
  }

  const anomalies: Record<string, AnomalyState> = { ...current.anomalies };
  const changes: string[] = [];
  for (const a of batch) {
    const prev = Object.hasOwn(anomalies, a.fingerprint) ? anomalies[a.fingerprint] : undefined;
    if (!prev) {
      anomalies[a.fingerprint] = fresh(a, now);
      if (a.status === 'firing') changes.push(`${describe(a)} started firing`);
      continue;
    }
    const next: AnomalyState = { ...prev, ...a, firstSeenAt: prev.firstSeenAt, lastSeenAt: now, repeats: prev.repeats };
    if (prev.status !== a.status) {
      changes.push(a.status === 'resolved' ? `${describe(a)} resolved` : `${describe(a)} is firing again`);
    } else if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[prev.severity] && a.status === 'firing') {
      changes.push(`${describe(a)} escalated from ${prev.severity} to ${a.severity}`);
    } else {
      // Unchanged, or only calmer. An incident keeps the highest severity it reached, so a value
      // oscillating around a limit announces its first rise only, not every swing.
      if (a.status === 'firing' && SEVERITY_RANK[a.severity] < SEVERITY_RANK[prev.severity]) next.severity = prev.severity;
      next.repeats = prev.repeats + 1;
    }
    anomalies[a.fingerprint] = next;
  }

  const states = Object.values(anomalies);
  const firing = states.filter((s) => s.status === 'firing');
  if (changes.length === 0) {
    return { incident: { ...current, anomalies, lastSeenAt: now }, announce: false };
  }
  const resolved = firing.length === 0;
  const { title, host } = titleOf(states);
  const incident: Incident = {
    ...current,
    title: resolved ? current.title : title,
    host: resolved ? current.host : host,
    severity: resolved ? current.severity : highestSeverity(firing),
    status: resolved ? 'resolved' : 'firing',
    revision: current.revision + 1,
    kind: resolved ? 'resolved' : 'updated',
    changes,
    since: resolved ? current.since : sinceOf(states),
    updatedAt: now,
    lastSeenAt: now,
    ...(resolved ? { resolvedAt: now } : {}),
    anomalies,
  };
  return { incident, announce: true };
}

/** The annotation actions.ts sets on an anomaly a person resolved by hand. */
export const RESOLVED_BY_HAND = 'labwatch_resolved_by';

function resolvedByHand(anomalies: Record<string, AnomalyState>, a: Anomaly): boolean {
  const prev = Object.hasOwn(anomalies, a.fingerprint) ? anomalies[a.fingerprint] : undefined;
  return prev !== undefined && prev.status === 'resolved' && Object.hasOwn(prev.annotations, RESOLVED_BY_HAND) && prev.startsAt === a.startsAt;
}

function touchResolved(current: Incident, batch: Anomaly[], now: string): MergeResult {
  const anomalies = { ...current.anomalies };
  for (const a of batch) {
    const prev = Object.hasOwn(anomalies, a.fingerprint) ? anomalies[a.fingerprint] : undefined;
    anomalies[a.fingerprint] = prev ? { ...prev, lastSeenAt: now, repeats: prev.repeats + 1 } : fresh(a, now);
  }
  return { incident: { ...current, anomalies, lastSeenAt: now }, announce: false };
}
