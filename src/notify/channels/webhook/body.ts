/**
 * The JSON a webhook receives: one object per message, documented in README.md beside this file
 * and in the main README. Fields are added, never renamed (`version` says which shape). Every
 * string is scrubbed of configured secrets before it gets here (render.ts).
 */
import type { Message } from '../../notifier.ts';
import type { Report } from '../../../triage/report.ts';

/** The labels every alert of the report carries with the same value (Alertmanager's commonLabels). */
function commonLabels(r: Report): Record<string, string> {
  const [first, ...rest] = r.alerts;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => rest.every((a) => a.labels[k] === v)));
}

export function webhookBody(m: Message): Record<string, unknown> {
  const common = { version: 1, key: m.key, subject: m.subject, level: m.level, text: m.text };
  if (m.report) {
    const r = m.report;
    return {
      ...common,
      kind: r.kind,
      incident_id: r.incidentId,
      revision: r.revision,
      severity: r.severity,
      status: r.kind === 'resolved' ? 'resolved' : 'firing',
      host: r.host,
      title: r.title,
      summary: r.summary,
      since: r.since,
      ...(r.resolvedAt ? { resolved_at: r.resolvedAt } : {}),
      changes: r.changes,
      facts: r.facts.map((f) => ({ text: f.text, ...(f.source ? { source: f.source } : {}) })),
      causes: r.causes.map((c) => ({ text: c.text, ...(c.confidence ? { confidence: c.confidence } : {}) })),
      actions: r.actions.map((a) => ({ text: a.text, ...(a.urgency ? { urgency: a.urgency } : {}) })),
      labels: commonLabels(r),
      alerts: r.alerts.map((a) => ({ name: a.name, status: a.status, severity: a.severity, subject: a.subject, since: a.since, labels: a.labels })),
      links: r.links.map((l) => ({ title: l.title, url: l.url })),
      ...(m.page ? { url: m.page } : {}),
      producer: r.producer,
    };
  }
  const d = m.digest;
  return {
    ...common,
    kind: 'digest',
    ...(d
      ? {
          from: d.from,
          to: d.to,
          opened: d.opened,
          escalated: d.escalated,
          still_open: d.stillOpen,
          resolved: d.resolved,
          health: d.health.map((h) => ({ kind: h.kind, subject: h.subject, host: h.host, summary: h.summary, ...(h.arrow ? { arrow: h.arrow } : {}) })),
        }
      : {}),
  };
}
