/**
 * The deterministic report: built from the incident's anomalies, their rules' text and the
 * alert's own annotations, with no model involved. It is what goes out when triage by Claude
 * is not configured or fails: an AI outage must never swallow an alert.
 */
import type { Incident, AnomalyState, Link } from '../incidents/types.ts';
import { SEVERITY_RANK } from '../incidents/types.ts';
import type { Action, AlertLine, Fact, Report } from './report.ts';
import { formatTime } from '../util/time.ts';

/** Labels that are shown elsewhere in the report or add nothing for a person. */
const QUIET_LABELS = new Set(['alertname', 'severity']);
/** Annotations rendered as their own sections. */
const QUIET_ANNOTATIONS = new Set(['summary', 'description', 'runbook_url', 'runbook', 'dashboard_url', 'dashboard']);

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

const URGENCY_RANK = { now: 0, soon: 1, 'when convenient': 2 } as const;

/**
 * What to do: the actions the rules declared (most urgent first, each said once however many
 * alerts carry it), then runbooks and the expressions behind alerts. Only when none of these
 * exists (an Alertmanager rule without a runbook) does the report give generic advice.
 */
function actionsOf(firing: AnomalyState[], resolved: boolean): Action[] {
  if (resolved) return [{ text: 'Nothing to do unless it comes back; labwatch will open a new incident if it does.', urgency: 'when convenient' }];
  const actions: Required<Action>[] = [];
  const seen = new Set<string>();
  const add = (text: string, urgency: Required<Action>['urgency']) => {
    if (seen.has(text)) return;
    seen.add(text);
    actions.push({ text, urgency });
  };
  for (const a of firing) for (const x of a.actions ?? []) add(x.text, x.urgency);
  for (const a of firing) {
    const runbook = a.links.find((l) => l.title === 'Runbook');
    if (runbook && !seen.has(runbook.url)) {
      seen.add(runbook.url);
      add(`Follow the runbook for ${a.rule}: ${runbook.url}`, a.severity === 'critical' ? 'now' : 'soon');
    }
  }
  for (const a of firing) {
    const expr = a.links.find((l) => l.role === 'source');
    if (expr && !seen.has(expr.url)) {
      seen.add(expr.url);
      add(`Check the expression behind ${a.rule} (${expr.title}): ${expr.url}`, 'soon');
    }
  }
  if (actions.length === 0) {
    const lead = firing[0];
    add(
      lead
        ? `Look at ${lead.subject || lead.host || lead.rule} and confirm ${lead.rule}; the alert carries no runbook, so add a runbook_url annotation to its rule.`
        : 'Review the alerts above.',
      lead?.severity === 'critical' ? 'now' : 'soon',
    );
  }
  // stable: among equals, the order of the alerts (most important first)
  return actions.sort((x, y) => URGENCY_RANK[x.urgency] - URGENCY_RANK[y.urgency]);
}

/** A report lists this many alerts at most: a storm of a thousand is counted, not printed. */
const LISTED_ALERTS = 20;

/**
 * The alerts a report shows: the most important first, and among equals the newest (what a storm
 * added last); `more` counts the rest.
 */
export function listedAnomalies(incident: Incident, max = LISTED_ALERTS): { listed: AnomalyState[]; more: number } {
  const all = Object.values(incident.anomalies);
  if (all.length <= max) return { listed: all.sort(byImportance), more: 0 };
  const newestFirst = (a: AnomalyState, b: AnomalyState) =>
    (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1) || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.firstSeenAt.localeCompare(a.firstSeenAt);
  return { listed: all.sort(newestFirst).slice(0, max), more: all.length - max };
}

export function deterministicReport(incident: Incident, notes: string[] = [], now = new Date()): Report {
  const all = Object.values(incident.anomalies);
  const { listed: anomalies, more } = listedAnomalies(incident);
  const firing = anomalies.filter((a) => a.status === 'firing');
  const firingCount = all.filter((a) => a.status === 'firing').length;
  const resolved = incident.status === 'resolved';
  const lead = firing[0] ?? anomalies[0]!;
  // A description of several lines (a task log's tail) is evidence: its first line leads the
  // summary, and the whole of it is shown once, under what was observed.
  const multiline = lead.description?.includes('\n') ?? false;
  const gist = lead.description?.split('\n')[0];

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
    ? `Resolved: ${incident.title}. All ${all.length} alert${all.length === 1 ? '' : 's'} in this incident stopped firing; it had been firing since ${formatTime(incident.since)}.`
    : [lead.summary, gist].filter(Boolean).join('. ').replace(/\.\./g, '.') +
      (firingCount > 1 ? ` (${firingCount} alerts firing in this incident.)` : '');
  const facts = anomalies.map(factOf);
  if (more > 0)
    facts.push({
      text: `${more} more alert${more === 1 ? '' : 's'} in this incident ${more === 1 ? 'is' : 'are'} not listed here (${all.length} in all; the newest are listed above); \`labwatch tools call incident_get '{"id":"${incident.id}"}'\` shows every one.`,
      source: 'labwatch incident',
    });

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
    facts,
    causes: resolved || !lead.description || multiline ? [] : [{ text: `The alert's own description: ${lead.description}`, confidence: 'medium' }],
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
