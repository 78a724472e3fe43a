/**
 * An incident as one row of a list: the dashboard API's and `labwatch incidents list --json`'s
 * shape (types.ts IncidentRow), made in one place so the two cannot drift apart.
 */
import type { Attention } from '../../incidents/actions.ts';
import { SEVERITY_RANK, type Incident } from '../../incidents/types.ts';
import type { Report } from '../../triage/report.ts';
import type { IncidentRow } from './types.ts';

/** Open ones first, the worst first, then the latest change. */
export const byUrgency = (a: IncidentRow, b: IncidentRow) =>
  (a.status === 'firing' ? 0 : 1) - (b.status === 'firing' ? 0 : 1) ||
  (a.status === 'firing' ? SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] : 0) ||
  b.updatedAt.localeCompare(a.updatedAt);

export function incidentRow(i: Incident, report: Report | null, attention: IncidentRow['attention']): IncidentRow {
  const states = Object.values(i.anomalies);
  const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);
  return {
    id: i.id,
    title: i.title,
    host: i.host,
    severity: i.severity,
    status: i.status,
    since: i.since,
    openedAt: i.openedAt,
    updatedAt: i.updatedAt,
    ...(i.resolvedAt ? { resolvedAt: i.resolvedAt } : {}),
    revision: i.revision,
    cause: firstLine(report?.summary || i.title),
    sources: [...new Set(states.map((a) => a.source))],
    subjects: [...new Set(states.map((a) => a.subject).filter(Boolean))].slice(0, 20),
    firing: states.filter((a) => a.status === 'firing').length,
    anomalies: states.length,
    attention,
  };
}

