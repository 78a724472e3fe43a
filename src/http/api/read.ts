/**
 * What the dashboard shows, read from each stage's own state: incidents (the incident store and
 * the action log), their reports and cost (triage), deliveries (notify's ledger), tool calls (the
 * audit trail) and the latest readings (the rule engine). Read-only: it writes nothing.
 */
import type { ActionEntry, IncidentActions } from '../../incidents/actions.ts';
import { describe } from '../../incidents/merge.ts';
import type { IncidentStore } from '../../incidents/store.ts';
import type { Incident } from '../../incidents/types.ts';
import type { DeliveryLedger } from '../../notify/ledger.ts';
import { renderHtml, type RenderOptions } from '../../notify/render.ts';
import type { NotifyState } from '../../notify/state.ts';
import type { RuleEngine } from '../../rules/engine.ts';
import type { Audit } from '../../tools/audit.ts';
import type { ReportStore } from '../../triage/reports.ts';
import type { Report } from '../../triage/report.ts';
import { byUrgency, incidentRow } from './rows.ts';
import type { HistoryAnswer, IncidentDetail, IncidentRow, SubjectRow, TimelineEvent, ToolCallRow } from './types.ts';

export interface IncidentFilter {
  state?: 'firing' | 'resolved' | 'all';
  severity?: string;
  host?: string;
  source?: string;
  subject?: string;
}

export interface ReadDeps {
  store: IncidentStore;
  actions: IncidentActions;
  reports: ReportStore;
  ledger: DeliveryLedger;
  notes: NotifyState;
  engine: RuleEngine;
  audit: Audit;
  /** the configured channels, whose deliveries the timeline lists */
  channels: string[];
  render: RenderOptions;
  /** whether the incident's alerts can be silenced (a silencing write tool is enabled for their source) */
  canSilence: (incident: Incident) => boolean;
}

/** How many incidents the list reads at most (newest change first). */
const LIST_MAX = 300;

export class DashboardReader {
  constructor(private readonly d: ReadDeps) {}

  async #latestReport(i: Incident): Promise<Report | null> {
    const reported = await this.d.store.reportedRevision(i.id, i.revision);
    return reported > 0 ? this.d.reports.getReport(i.id, reported) : null;
  }

  async #rows(incidents: Incident[]): Promise<IncidentRow[]> {
    const [attention, reports] = await Promise.all([this.d.actions.attentionOfMany(incidents.map((i) => i.id)), Promise.all(incidents.map((i) => this.#latestReport(i)))]);
    return incidents.map((i, n) => incidentRow(i, reports[n] ?? null, attention[n]!));
  }

  async row(id: string): Promise<IncidentRow | null> {
    const i = await this.d.store.getIncident(id);
    return i ? (await this.#rows([i]))[0]! : null;
  }

  async incidents(f: IncidentFilter): Promise<IncidentRow[]> {
    const want = (i: Incident) =>
      (f.state === 'all' || i.status === (f.state ?? 'firing')) &&
      (!f.severity || i.severity === f.severity) &&
      (!f.host || i.host === f.host || Object.values(i.anomalies).some((a) => a.host === f.host)) &&
      (!f.source || Object.values(i.anomalies).some((a) => a.source === f.source)) &&
      (!f.subject || Object.values(i.anomalies).some((a) => a.subject.includes(f.subject!)));
    const picked = (await this.d.store.listRecent(LIST_MAX)).filter(want);
    return (await this.#rows(picked)).sort(byUrgency);
  }

  async detail(id: string): Promise<IncidentDetail | null> {
    const incident = await this.d.store.getIncident(id);
    if (!incident) return null;
    const [[row], report, cost, log, calls, timeline] = await Promise.all([
      this.#rows([incident]),
      this.#latestReport(incident),
      this.d.reports.triageCost(id),
      this.d.actions.log(id),
      this.d.audit.callsOf(id),
      this.#timeline(incident),
    ]);
    const events = [...timeline, ...log.map(actionEvent)].sort((a, b) => a.at.localeCompare(b.at));
    const fallback = report?.producer === 'deterministic' ? report.notes.find((n) => /AI triage/.test(n)) : undefined;
    const firing = incident.status === 'firing';
    return {
      incident: row!,
      anomalies: Object.values(incident.anomalies).sort((a, b) => (a.status === b.status ? a.firstSeenAt.localeCompare(b.firstSeenAt) : a.status === 'firing' ? -1 : 1)),
      timeline: events,
      report,
      reportHtml: report ? renderHtml(report, this.d.render) : null,
      calls: calls.map((c, n): ToolCallRow => ({ n, at: c.at, caller: c.caller, tool: c.tool, args: c.args, durationMs: c.durationMs, bytes: c.bytes, outcome: c.outcome, hasResult: typeof c.result === 'string' })),
      cost,
      ...(fallback ? { fallback } : {}),
      can: { acknowledge: firing && !row!.attention.acknowledged, snooze: firing, resolve: firing, silence: firing && this.d.canSilence(incident) },
    };
  }

  async callResult(id: string, n: number): Promise<string | null | undefined> {
    const calls = await this.d.audit.callsOf(id);
    return n < calls.length ? (calls[n]!.result ?? null) : undefined;
  }

  /** Anomalies, reports and deliveries in time order (people's actions are added by detail). */
  async #timeline(i: Incident): Promise<TimelineEvent[]> {
    const out: TimelineEvent[] = [{ at: i.openedAt, kind: 'opened', text: `incident opened: ${i.title}` }];
    for (const a of Object.values(i.anomalies)) {
      out.push({ at: a.firstSeenAt, kind: 'anomaly-firing', text: `${describe(a)} started firing: ${a.summary}`, detail: `${a.source}, ${a.severity}` });
      if (a.status === 'resolved') out.push({ at: a.endsAt && a.endsAt < a.lastSeenAt ? a.lastSeenAt : (a.endsAt ?? a.lastSeenAt), kind: 'anomaly-resolved', text: `${describe(a)} resolved` });
    }
    // Every report made (one per revision, plus reminders) and its delivery on each channel.
    const reminders = (await this.d.notes.lastAnnounced(i.id))?.reminders ?? 0;
    const keys: { rev: number; variant?: string }[] = [];
    for (let rev = Math.max(1, i.revision - 20); rev <= i.revision; rev++) keys.push({ rev });
    const reported = await this.d.store.reportedRevision(i.id, i.revision);
    // A reminder is kept under the revision reported when it was sent; the count runs across revisions.
    for (let n = Math.max(1, reminders - 5); n <= reminders; n++) for (let rev = reported; rev > 0 && rev > reported - 3; rev--) keys.push({ rev, variant: `again${n}` });
    const reports = await Promise.all(keys.map((k) => this.d.reports.getReport(i.id, k.rev, k.variant)));
    for (const [n, r] of reports.entries()) {
      if (!r) continue;
      const key = keys[n]!;
      const deliveryKey = key.variant ? `${key.rev}-${key.variant}` : key.rev;
      out.push({ at: r.createdAt, kind: 'report', text: `${r.kind === 'reminder' ? 'reminder' : `revision ${r.revision} (${r.kind})`} reported by ${r.producer === 'ai' ? 'Claude' : 'the deterministic report'}`, detail: r.summary });
      const outcomes = await Promise.all(this.d.channels.map((ch) => this.d.ledger.outcome(i.id, deliveryKey, ch)));
      this.d.channels.forEach((ch, c) => {
        const o = outcomes[c];
        if (o?.sent) out.push({ at: o.sent.at, kind: 'notification', text: `sent by ${ch}`, detail: `${ch}${o.sent.ref ? `: ${o.sent.ref}` : ''}` });
        else if (o?.failure) out.push({ at: o.failure.at, kind: 'notification-failed', text: `${ch} failed: ${o.failure.error}`, detail: `${ch}; retried with backoff` });
      });
    }
    if (i.status === 'resolved' && i.resolvedAt) out.push({ at: i.resolvedAt, kind: 'resolved', text: 'incident resolved' });
    return out;
  }

  /**
   * The latest reading of every subject (of one kind; all but the collectors' own health when
   * none is named), with the rules firing on it and its summary line where its collector gives one.
   */
  async subjects(kind?: string): Promise<SubjectRow[]> {
    const [seen, latest] = await Promise.all([this.d.engine.seen(), this.d.engine.latest()]);
    const picked = seen.filter((s) => (kind ? s.kind === kind : s.kind !== 'collector')).sort((a, b) => a.kind.localeCompare(b.kind) || a.subject.localeCompare(b.subject) || a.host.localeCompare(b.host));
    const lines = new Map(latest.map((l) => [l.key ?? l.subject, l]));
    const [values, firing] = await Promise.all([this.d.engine.lastValues(picked.map((s) => s.key)), this.#firingBySubject()]);
    return picked.map((s, n) => {
      const line = lines.get(s.key);
      return { subject: s.subject, kind: s.kind, source: s.source, host: s.host, at: s.at, summary: line?.summary ?? '', ...(line?.arrow ? { arrow: line.arrow } : {}), values: values[n] ?? {}, firing: (perHostKey(s) ? firing.get(`${s.subject}@${s.host}`) : firing.get(s.subject)) ?? [] };
    });
  }

  /** A subject's history on `host` when given (two nodes' rpool are two pools), else wherever it was read last. */
  async history(subject: string, host?: string): Promise<HistoryAnswer> {
    // The path that saw it last (a drive read by smartctl here and by the Proxmox API has two).
    const newest = (await this.d.engine.seen()).filter((s) => s.subject === subject && (!host || s.host === host)).sort((a, b) => b.at.localeCompare(a.at))[0];
    return { subject, points: await this.d.engine.history(newest?.key ?? subject) };
  }

  async #firingBySubject(): Promise<Map<string, SubjectRow['firing']>> {
    const out = new Map<string, SubjectRow['firing']>();
    const ids = await this.d.store.firingIds();
    const incidents = await Promise.all(ids.slice(0, LIST_MAX).map((id) => this.d.store.getIncident(id)));
    for (const i of incidents)
      for (const a of Object.values(i?.anomalies ?? {}))
        if (i && a.status === 'firing')
          // by subject (a drive, a guest) and by subject on its host (a pool, a filesystem: one per host)
          for (const k of [a.subject, `${a.subject}@${a.host}`]) out.set(k, [...(out.get(k) ?? []), { rule: a.rule, severity: a.severity, incident: i.id }]);
    return out;
  }
}

/** Whether a row names a thing of one host: its history key is `<subject>@<source>/<host>` (rules/observation.ts pathKey). */
function perHostKey(s: { key: string; subject: string; host: string }): boolean {
  return s.key !== s.subject && s.key.endsWith(`/${s.host}`);
}

function actionEvent(e: ActionEntry): TimelineEvent {
  const verb = { acknowledged: 'acknowledged', snoozed: 'snoozed', unsnoozed: 'unsnoozed', 'resolved-by-hand': 'resolved by hand', silenced: 'silenced' }[e.action];
  return { at: e.at, kind: e.action, text: `${verb} by ${e.by}${e.detail ? ` (${e.detail})` : ''}`, detail: `via ${e.via}` };
}
