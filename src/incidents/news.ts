/**
 * What changed between the incident as last reported and as it is now, in words. Revisions are
 * not stored one by one: a report made after a storm of changes compares two states, so its size
 * does not grow with the number of revisions in between.
 */
import { describe } from './merge.ts';
import { SEVERITY_RANK, type AnomalyState, type Incident } from './types.ts';

/** Past this many changes a report names the counts and the newest few. */
const LISTED = 8;

type Kind = 'started firing' | 'fired and resolved' | 'resolved' | 'is firing again' | 'escalated';

export function newsSince(before: Incident | null, now: Incident): string[] {
  const items: { kind: Kind; text: string; at: string }[] = [];
  const add = (kind: Kind, a: AnomalyState, text = `${describe(a)} ${kind}`) => items.push({ kind, text, at: a.lastSeenAt });
  for (const [fp, a] of Object.entries(now.anomalies)) {
    const prev = before && Object.hasOwn(before.anomalies, fp) ? before.anomalies[fp] : undefined;
    if (!prev) add(a.status === 'firing' ? 'started firing' : 'fired and resolved', a);
    else if (prev.status !== a.status) add(a.status === 'resolved' ? 'resolved' : 'is firing again', a);
    else if (a.status === 'firing' && SEVERITY_RANK[a.severity] > SEVERITY_RANK[prev.severity])
      add('escalated', a, `${describe(a)} escalated from ${prev.severity} to ${a.severity}`);
  }
  // Nothing differs between the two states (it fired and resolved in between): the last revision's words.
  if (items.length === 0) return now.changes;
  items.sort((x, y) => x.at.localeCompare(y.at));
  if (items.length <= LISTED + 2) return items.map((i) => i.text);
  const counts = new Map<Kind, number>();
  for (const i of items) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
  const tally = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  const since = before ? 'since the last report' : 'in this incident';
  return [`${items.length} changes ${since} (${tally}); the newest ${LISTED}:`, ...items.slice(-LISTED).map((i) => i.text)];
}
