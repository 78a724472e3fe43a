/** Reports on the real Alertmanager fixtures, as triage's deterministic fallback writes them. */
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import type { Report } from '../../src/triage/report.ts';
import { FIRING_AM021, resolvedOf } from './payloads.ts';

/** The report on an Alertmanager body (FIRING_AM021 by default: one critical alert on ni3). */
export function reportOn(body: string = FIRING_AM021): Report {
  const inc = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body))), '2026-11-24T10:00:00.000Z')!.incident;
  return deterministicReport(inc, ['AI triage is off.'], new Date('2026-11-24T10:00:01Z'));
}

/** FIRING_AM021 with its severity label changed. */
export function reportWithSeverity(severity: 'critical' | 'warning' | 'info'): Report {
  const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string> }[]; commonLabels: Record<string, string> };
  p.alerts[0]!.labels.severity = p.commonLabels.severity = severity;
  return reportOn(JSON.stringify(p));
}

/** The resolution of FIRING_AM021's incident, as the report after it resolved. */
export function resolvedReport(): Report {
  const firing = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021))), '2026-11-24T10:00:00.000Z')!.incident;
  const done = mergeAnomalies(firing, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(resolvedOf(FIRING_AM021)))), '2026-11-24T10:05:00.000Z')!.incident;
  return deterministicReport(done, ['AI triage is off.'], new Date('2026-11-24T10:05:01Z'));
}
