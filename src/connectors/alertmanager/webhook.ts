/**
 * Alertmanager's webhook (payload version "4") → anomalies.
 *
 * Debian ships Alertmanager 0.25 and upstream is at 0.3x: older senders omit `fingerprint` and
 * `truncatedAlerts`, newer ones add fields such as `notification_reason`. Unknown fields are
 * accepted and ignored; only what labwatch needs is required.
 */
import * as z from 'zod';
import { labGroupKey, labelsFingerprint, normaliseSeverity } from '../../incidents/fingerprint.ts';
import type { Anomaly, Link } from '../../incidents/types.ts';
import { issueMessage, issuePath } from '../../util/zod.ts';
import { PayloadError, type WebhookIntake } from '../types.ts';

const labelSet = z.record(z.string(), z.string());
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an RFC 3339 timestamp');

const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.optional(),
  startsAt: timestamp,
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

const payloadSchema = z.looseObject({
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
export type AlertmanagerPayload = z.infer<typeof payloadSchema>;

/** The labels that name the machine an alert is about, most specific first. */
const HOST_LABELS = ['host', 'hostname', 'nodename', 'node', 'instance', 'server'];

function hostOf(labels: Record<string, string>): string {
  for (const k of HOST_LABELS) {
    const v = labels[k];
    if (v) return v.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([^:]+):\d+$/, '$1');
  }
  return '';
}

/** The same few URLs arrive with every repeat; parse each once (bounded). */
const checkedUrls = new Map<string, string | undefined>();

/** The URL normalised if it is http(s), else undefined: no javascript: or data: link reaches a report. */
function httpUrl(s: string | undefined): string | undefined {
  if (!s) return undefined;
  if (checkedUrls.has(s)) return checkedUrls.get(s);
  let out: string | undefined;
  try {
    const u = new URL(s);
    out = u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    out = undefined;
  }
  if (checkedUrls.size >= 5000) checkedUrls.clear();
  checkedUrls.set(s, out);
  return out;
}

function linksOf(alert: AlertmanagerAlert, externalURL: string | undefined): Link[] {
  const a = alert.annotations ?? {};
  const links: Link[] = [];
  const add = (title: string, url: string | undefined) => {
    const u = httpUrl(url);
    if (u && !links.some((l) => l.url === u)) links.push({ title, url: u });
  };
  add('Runbook', a.runbook_url ?? a.runbook);
  add('Dashboard', a.dashboard_url ?? a.dashboard);
  add('Prometheus expression', alert.generatorURL);
  add('Alertmanager', externalURL);
  return links;
}

/** Formats zod issues as "alerts[0].labels: expected record, received string". */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${issuePath(i.path) || 'body'}: ${issueMessage(i)}`)
    .join('; ') + (error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '');
}

export function parseAlertmanagerPayload(body: unknown): AlertmanagerPayload {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PayloadError('body: expected a JSON object (Alertmanager webhook payload, version "4")');
  }
  const parsed = payloadSchema.safeParse(body);
  if (!parsed.success) throw new PayloadError(`invalid Alertmanager payload: ${describeIssues(parsed.error)}`);
  if (parsed.data.version !== '4') {
    throw new PayloadError(
      `version: expected "4" (Alertmanager webhook payload version 4), got ${JSON.stringify(parsed.data.version)}`,
    );
  }
  return parsed.data;
}

export function alertsToAnomalies(payload: AlertmanagerPayload): Anomaly[] {
  return payload.alerts.map((alert) => {
    const labels = alert.labels;
    const annotations = alert.annotations ?? {};
    const rule = labels.alertname ?? 'unnamed alert';
    const host = hostOf(labels);
    // An alert that names a disk by serial (smartctl_exporter's serial_number, node_exporter's
    // serial) is about disk:<serial>: it joins labwatch's own incident for that disk (or its pool).
    const serial = labels.serial_number ?? labels.serial;
    const disk = serial && host ? `disk:${serial}` : undefined;
    // Otherwise Alertmanager's groupKey: stable per route and group; old senders lack it.
    const groupKey = disk ? labGroupKey(host, disk) : `alertmanager:${payload.groupKey ?? `${rule}|${labels.instance ?? host}`}`;
    const endsAt = alert.endsAt && !alert.endsAt.startsWith('0001-') ? new Date(alert.endsAt).toISOString() : undefined;
    return {
      fingerprint: alert.fingerprint ?? labelsFingerprint(labels),
      source: 'alertmanager',
      rule,
      severity: normaliseSeverity(labels.severity),
      subject: disk ?? labels.instance ?? host,
      host,
      summary: annotations.summary ?? annotations.message ?? annotations.title ?? (host ? `${rule} on ${host}` : rule),
      ...(annotations.description ? { description: annotations.description } : {}),
      labels,
      annotations,
      links: linksOf(alert, payload.externalURL),
      status: alert.status,
      startsAt: new Date(alert.startsAt).toISOString(),
      ...(endsAt ? { endsAt } : {}),
      groupKey,
    } satisfies Anomaly;
  });
}

export const alertmanagerIntake: WebhookIntake = {
  source: 'alertmanager',
  path: 'alertmanager',
  parse: (body) => alertsToAnomalies(parseAlertmanagerPayload(body)),
};
