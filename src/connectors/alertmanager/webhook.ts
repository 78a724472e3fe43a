/**
 * Alertmanager's webhook (payload version "4") → anomalies.
 *
 * Debian ships Alertmanager 0.25 and upstream is at 0.3x: older senders omit `fingerprint` and
 * `truncatedAlerts`, newer ones add fields such as `notification_reason`. Unknown fields are
 * accepted and ignored; only what labwatch needs is required.
 *
 * Every field that would fail later is checked here, so a bad payload is a 400 naming it (never
 * retried) and never a 500 (retried forever): timestamps are RFC 3339, label values strings.
 * Label and annotation names are data: `__proto__` or `constructor` is kept as an own key and never
 * looked up through Object.prototype. Oversized values are cut, not refused (connectors/limits.ts).
 */
import * as z from 'zod';
import { labGroupKey, labelsFingerprint, normaliseSeverity, stableHash } from '../identity.ts';
import type { Anomaly, Link } from '../types.ts';
import { issueMessage, issuePath } from '../../util/zod.ts';
import { LIMITS, TRUNCATED_ANNOTATION, capSet, type OnTruncated } from '../limits.ts';
import { PayloadError, type WebhookIntake } from '../types.ts';
import { labSubjectOfAlert, type LabSubject } from './subjects.ts';

/**
 * A label set: string values by name. Built with Object.fromEntries, so every name the sender used
 * is an own key of the result (zod's record drops `__proto__`, silently changing the alert).
 */
const labelSet = z.unknown().transform((v, ctx) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    ctx.addIssue({ code: 'invalid_type', expected: 'record', input: v });
    return z.NEVER;
  }
  const entries = Object.entries(v);
  for (const [k, x] of entries) if (typeof x !== 'string') ctx.addIssue({ code: 'invalid_type', expected: 'string', input: x, path: [k] });
  return Object.fromEntries(entries) as Record<string, string>;
});

/** RFC 3339 date-time, as Go's time.Time marshals it: `2021-01-07T08:38:00.032813093Z`, `…-02:00`. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** True for an RFC 3339 time that is a real instant (no 30 February, no hour 24) JavaScript can hold. */
function isRfc3339(s: string): boolean {
  const m = s.length <= 40 ? RFC3339.exec(s) : null;
  if (!m) return false;
  const [year, month, day, hour, minute, second, offH = 0, offM = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1] ?? 0;
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour! > 23 || minute! > 59 || second! > 59 || offH > 23 || offM > 59) return false;
  return Number.isFinite(Date.parse(s.toUpperCase()));
}

const preview = (v: unknown) => {
  const s = String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
};
const timestampError = { error: (iss: { input: unknown }) => `an RFC 3339 timestamp (like 2021-01-07T08:38:00Z), got ${preview(iss.input)}` };
const timestamp = z.string().refine(isRfc3339, timestampError);
/** Alertmanager's zero time (`0001-01-01T00:00:00Z`) is the endsAt of a firing alert: no end yet. */
const isZeroTime = (s: string) => s.startsWith('0001-01-01');

const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.optional(),
  startsAt: timestamp,
  /** '' (some senders) or the zero time: not ended */
  endsAt: z.string().refine((s) => s === '' || isRfc3339(s), timestampError).optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

const payloadSchema = z.object({ // unknown fields are dropped
  version: z.string(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: labelSet.optional(),
  commonLabels: labelSet.optional(),
  commonAnnotations: labelSet.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema),
});

type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerPayload = z.infer<typeof payloadSchema> & {
  /** how many alerts the delivery carried; `alerts` holds the first LIMITS.alertsPerRequest */
  alertsSent: number;
};

/** The labels that name the machine an alert is about, most specific first. */
const HOST_LABELS = ['host', 'hostname', 'nodename', 'node', 'instance', 'server'];

/** The labels labwatch reads, kept first when an alert has more than LIMITS.labelsPerAlert. */
const READ_LABELS = ['alertname', 'severity', 'instance', 'job', 'serial_number', 'serial', 'mountpoint', 'zpool', 'pool', ...HOST_LABELS];
const READ_ANNOTATIONS = ['summary', 'message', 'title', 'description', 'runbook_url', 'runbook', 'dashboard_url', 'dashboard'];

/** A label of the set, only if it is its own (never Object.prototype's `constructor`). */
const get = (set: Record<string, string>, k: string): string | undefined => (Object.hasOwn(set, k) ? set[k] : undefined);

function hostOf(labels: Record<string, string>): string {
  for (const k of HOST_LABELS) {
    const v = get(labels, k);
    if (v) return v.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([^:]+):\d+$/, '$1');
  }
  return '';
}

/** The same few URLs arrive with every repeat; parse each once (bounded). */
const checkedUrls = new Map<string, string | undefined>();

/** URLs longer than this are not linked (a cut URL is a broken one) and never cached. */
const MAX_URL = 8192;

/** The URL normalised if it is http(s), else undefined: no javascript: or data: link reaches a report. */
function httpUrl(s: string | undefined): string | undefined {
  if (!s || s.length > MAX_URL) return undefined;
  if (checkedUrls.has(s)) return checkedUrls.get(s);
  let out: string | undefined;
  try {
    const u = new URL(s);
    out = u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    out = undefined;
  }
  if (s.length > 2048) return out; // the cache holds the usual short URLs only
  if (checkedUrls.size >= 5000) checkedUrls.clear();
  checkedUrls.set(s, out);
  return out;
}

function linksOf(alert: AlertmanagerAlert, a: Record<string, string>, externalURL: string | undefined): Link[] {
  const links: Link[] = [];
  const add = (title: string, url: string | undefined, role?: Link['role']) => {
    const u = httpUrl(url);
    if (u && !links.some((l) => l.url === u)) links.push({ title, url: u, ...(role ? { role } : {}) });
  };
  add('Runbook', get(a, 'runbook_url') ?? get(a, 'runbook'));
  add('Dashboard', get(a, 'dashboard_url') ?? get(a, 'dashboard'));
  add('Prometheus expression', alert.generatorURL, 'source');
  add('Alertmanager', externalURL);
  return links;
}

/** Formats zod issues as "alerts[0].labels: expected record, received string". */
function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${issuePath(i.path) || 'body'}: ${issueMessage(i)}`)
    .join('; ') + (issues.length > 5 ? ` (and ${issues.length - 5} more)` : '');
}

export function parseAlertmanagerPayload(body: unknown): AlertmanagerPayload {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PayloadError('body: expected a JSON object (Alertmanager webhook payload, version "4")');
  }
  // Only the alerts labwatch takes are checked (and copied): the rest are counted, not stored.
  const sent = (body as { alerts?: unknown }).alerts;
  const alertsSent = Array.isArray(sent) ? sent.length : 0;
  const taken = alertsSent > LIMITS.alertsPerRequest ? { ...body, alerts: (sent as unknown[]).slice(0, LIMITS.alertsPerRequest) } : body;
  const parsed = payloadSchema.safeParse(taken);
  if (!parsed.success) throw new PayloadError(`invalid Alertmanager payload: ${describeIssues(parsed.error.issues)}`);
  if (parsed.data.version !== '4') {
    throw new PayloadError(
      `version: expected "4" (Alertmanager webhook payload version 4), got ${JSON.stringify(parsed.data.version)}`,
    );
  }
  return { ...parsed.data, alertsSent };
}

/** What a person must know when a delivery did not carry the whole group: cut by Alertmanager (max_alerts) or by labwatch. */
function leftOutNote(payload: AlertmanagerPayload, cut: number): string | undefined {
  const byAlertmanager = payload.truncatedAlerts ?? 0;
  if (!cut && byAlertmanager <= 0) return undefined;
  const notes: string[] = [];
  if (byAlertmanager > 0) notes.push(`Alertmanager left ${byAlertmanager} alerts of this group out of the delivery (max_alerts)`);
  if (cut)
    notes.push(
      `the delivery carried ${payload.alertsSent} alerts and labwatch took the first ${payload.alerts.length} (its limit per request); ` +
        `set max_alerts: ${LIMITS.alertsPerRequest} in Alertmanager's webhook_config to have it count the rest`,
    );
  return notes.join('; ');
}

/** Alertmanager's fingerprints are 16 hex digits; anything else is replaced by a hash of the labels. */
const FINGERPRINT = /^[0-9a-fA-F]{1,64}$/;
/** A groupKey longer than this is replaced by its hash (it is copied into every anomaly of the group). */
const MAX_GROUP_KEY = 4096;

/**
 * The alerts as anomalies. Identity (fingerprint, group) comes from the alert as sent; what is
 * stored and shown is cut to LIMITS, each cut reported to `onTruncated`.
 */
export function alertsToAnomalies(payload: AlertmanagerPayload, onTruncated: OnTruncated = () => {}): Anomaly[] {
  const sentGroupKey = payload.groupKey !== undefined && payload.groupKey.length > MAX_GROUP_KEY ? `#${stableHash([payload.groupKey], 32)}` : payload.groupKey;
  const cut = payload.alertsSent - payload.alerts.length;
  if (cut) onTruncated('alerts', cut);
  const leftOut = leftOutNote(payload, cut);
  return payload.alerts.map((alert) => {
    const { set: labels, dropped: droppedLabels } = capSet(
      alert.labels,
      { kind: 'label', valueBytes: LIMITS.labelValueBytes, maxEntries: LIMITS.labelsPerAlert, keepFirst: READ_LABELS },
      onTruncated,
    );
    const { set: annotations, dropped: droppedAnnotations } = capSet(
      alert.annotations ?? {},
      { kind: 'annotation', valueBytes: LIMITS.annotationValueBytes, maxEntries: LIMITS.annotationsPerAlert, keepFirst: READ_ANNOTATIONS },
      onTruncated,
    );
    if (droppedLabels || droppedAnnotations) {
      const kept = (n: number, what: string, of: number, max: number) => `${of - n} of ${of} ${what} (at most ${max} per alert)`;
      const parts = [
        ...(droppedLabels ? [kept(droppedLabels, 'labels', Object.keys(alert.labels).length, LIMITS.labelsPerAlert)] : []),
        ...(droppedAnnotations ? [kept(droppedAnnotations, 'annotations', Object.keys(alert.annotations ?? {}).length, LIMITS.annotationsPerAlert)] : []),
      ];
      annotations[TRUNCATED_ANNOTATION] = `labwatch kept ${parts.join(' and ')}; the rest were not stored`;
    }
    if (leftOut) annotations[TRUNCATED_ANNOTATION] = annotations[TRUNCATED_ANNOTATION] ? `${leftOut}; ${annotations[TRUNCATED_ANNOTATION]}` : leftOut;
    const rule = get(labels, 'alertname') ?? 'unnamed alert';
    const labelHost = hostOf(labels);
    // An alert that names a disk by serial (smartctl_exporter's serial_number, node_exporter's
    // serial) is about disk:<serial>: it joins labwatch's own incident for that disk (or its pool).
    // One naming a filesystem, pool or dead scrape target joins the collector's incident for it.
    const serial = get(labels, 'serial_number') ?? get(labels, 'serial');
    const lab: LabSubject | undefined = serial && labelHost ? { host: labelHost, subject: `disk:${serial}` } : labSubjectOfAlert(labels, labelHost, alert.generatorURL);
    const host = lab?.host ?? labelHost;
    const instance = get(labels, 'instance');
    // Otherwise Alertmanager's groupKey: stable per route and group; old senders lack it.
    const groupKey = lab ? labGroupKey(lab.host, lab.subject) : `alertmanager:${sentGroupKey ?? `${rule}|${instance ?? host}`}`;
    const endsAt = alert.endsAt && !isZeroTime(alert.endsAt) ? new Date(alert.endsAt.toUpperCase()).toISOString() : undefined;
    const description = get(annotations, 'description');
    return {
      // The identity is the alert as sent (all of its labels, uncut), so alerts that differ only
      // beyond a cut stay apart.
      fingerprint: alert.fingerprint !== undefined && FINGERPRINT.test(alert.fingerprint) ? alert.fingerprint : labelsFingerprint(alert.labels),
      source: 'alertmanager',
      rule,
      severity: normaliseSeverity(get(labels, 'severity')),
      subject: lab?.subject ?? instance ?? host,
      host,
      summary: get(annotations, 'summary') ?? get(annotations, 'message') ?? get(annotations, 'title') ?? (host ? `${rule} on ${host}` : rule),
      ...(description ? { description } : {}),
      labels,
      annotations,
      links: linksOf(alert, annotations, payload.externalURL),
      // Steps for what the alert names, when labwatch knows the thing (a target, a filesystem, a pool).
      ...(alert.status === 'firing' && lab?.actions ? { actions: lab.actions } : {}),
      status: alert.status,
      startsAt: new Date(alert.startsAt.toUpperCase()).toISOString(),
      ...(endsAt ? { endsAt } : {}),
      groupKey,
    } satisfies Anomaly;
  });
}

export const alertmanagerIntake: WebhookIntake = {
  source: 'alertmanager',
  path: 'alertmanager',
  parse: (body, onTruncated) => alertsToAnomalies(parseAlertmanagerPayload(body), onTruncated),
  hints: { payload: 'the Alertmanager webhook payload', tooLarge: 'lower max_alerts in the Alertmanager webhook config' },
};
