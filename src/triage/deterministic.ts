/**
 * The deterministic report: built from the incident's anomalies, their rules' text and the
 * alert's own annotations, with no model involved. It is what goes out when triage by Claude
 * is not configured or fails: an AI outage must never swallow an alert.
 */
import type { Incident, AnomalyState, Link } from '../incidents/types.ts';
import { SEVERITY_RANK } from '../incidents/types.ts';
import type { Action, AlertLine, Fact, Report } from './report.ts';

/** Labels that are shown elsewhere in the report or add nothing for a person. */
const QUIET_LABELS = new Set(['alertname', 'severity']);
/** Annotations rendered as their own sections. */
const QUIET_ANNOTATIONS = new Set(['summary', 'description', 'runbook_url', 'runbook', 'dashboard_url', 'dashboard']);

export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

function byImportance(a: AnomalyState, b: AnomalyState): number {
  return (
    (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    a.startsAt.localeCompare(b.startsAt)
  );
}

function factOf(a: AnomalyState): Fact {
  const where = a.subject && a.subject !== a.rule ? ` on ${a.subject}` : a.host ? ` on ${a.host}` : '';
  const when =
    a.status === 'firing'
      ? `firing since ${formatTime(a.startsAt)}`
      : `resolved${a.endsAt ? ` at ${formatTime(a.endsAt)}` : ''} (started ${formatTime(a.startsAt)})`;
  const labels = Object.entries(a.labels)
    .filter(([k]) => !QUIET_LABELS.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const extra = Object.entries(a.annotations)
    .filter(([k]) => !QUIET_ANNOTATIONS.has(k))
    .map(([k, v]) => `${k}: ${v}`);
  const text = [`${a.rule}${where}: ${a.summary}; ${when}`, a.description, labels && `labels: ${labels}`, ...extra]
    .filter(Boolean)
    .join('\n');
  return { text, source: `${a.source} alert ${a.rule} (fingerprint ${a.fingerprint})` };
}

function actionsOf(firing: AnomalyState[], resolved: boolean): Action[] {
  if (resolved) return [{ text: 'Nothing to do unless it comes back; labwatch will open a new incident if it does.', urgency: 'when convenient' }];
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const a of firing) {
    const runbook = a.links.find((l) => l.title === 'Runbook');
    if (runbook && !seen.has(runbook.url)) {
      seen.add(runbook.url);
      actions.push({ text: `Follow the runbook for ${a.rule}: ${runbook.url}`, urgency: a.severity === 'critical' ? 'now' : 'soon' });
    }
  }
  for (const a of firing) {
    const expr = a.links.find((l) => l.title === 'Prometheus expression');
    if (expr && !seen.has(expr.url)) {
      seen.add(expr.url);
      actions.push({ text: `Check the expression behind ${a.rule} in Prometheus: ${expr.url}`, urgency: 'soon' });
    }
  }
  if (actions.length === 0) {
    const lead = firing[0];
    actions.push({
      text: lead
        ? `Look at ${lead.subject || lead.host || lead.rule} and confirm ${lead.rule}; the alert carries no runbook, so add a runbook_url annotation to its rule.`
        : 'Review the alerts above.',
      urgency: lead?.severity === 'critical' ? 'now' : 'soon',
    });
  }
  return actions;
}

export function deterministicReport(incident: Incident, notes: string[] = [], now = new Date()): Report {
  const anomalies = Object.values(incident.anomalies).sort(byImportance);
  const firing = anomalies.filter((a) => a.status === 'firing');
  const resolved = incident.status === 'resolved';
  const lead = firing[0] ?? anomalies[0]!;

  const links: Link[] = [];
  for (const a of anomalies) for (const l of a.links) if (!links.some((x) => x.url === l.url)) links.push(l);

  const alerts: AlertLine[] = anomalies.map((a) => ({
    name: a.rule,
    status: a.status,
    severity: a.severity,
    subject: a.subject,
    since: a.startsAt,
    ...(a.endsAt ? { endedAt: a.endsAt } : {}),
    labels: a.labels,
    annotations: a.annotations,
  }));

  const summary = resolved
    ? `Resolved: ${incident.title}. All ${anomalies.length} alert${anomalies.length === 1 ? '' : 's'} in this incident stopped firing; it had been firing since ${formatTime(incident.since)}.`
    : [lead.summary, lead.description].filter(Boolean).join('. ').replace(/\.\./g, '.') +
      (firing.length > 1 ? ` (${firing.length} alerts firing in this incident.)` : '');

  return {
    incidentId: incident.id,
    revision: incident.revision,
    kind: incident.kind,
    producer: 'deterministic',
    severity: incident.severity,
    host: incident.host,
    title: incident.title,
    summary,
    changes: incident.changes,
    facts: anomalies.map(factOf),
    causes: resolved || !lead.description ? [] : [{ text: `The alert's own description: ${lead.description}`, confidence: 'medium' }],
    actions: actionsOf(firing, resolved),
    alerts,
    links,
    openedAt: incident.openedAt,
    since: incident.since,
    ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
    createdAt: now.toISOString(),
    notes,
  };
}
