/**
 * `labwatch incidents list | show | ack | snooze | unsnooze | resolve`: labwatch's incidents from
 * the shell, read and acted on in Redis directly (no daemon needed to read or act). The actions are
 * the dashboard's (incidents/actions.ts), done by `user@host` via cli, and audited like a tool call
 * (caller cli). A resolution by hand goes into the outbox like any other news: the running
 * daemon's sweeper queues its report.
 */
import { hostname, userInfo } from 'node:os';
import { ms, secretValues } from '../config/schema.ts';
import { byUrgency, incidentRow } from '../http/api/rows.ts';
import { ActionError, IncidentActions, type Attention } from '../incidents/actions.ts';
import { Intake } from '../incidents/intake.ts';
import { IncidentStore } from '../incidents/store.ts';
import { INCIDENT_ID, type Incident, type Severity } from '../incidents/types.ts';
import { redact, render } from '../notify/render.ts';
import { DEFAULT_ROUTES, pacing } from '../notify/routes.ts';
import { buildToolbox } from '../registry.ts';
import { createLogger } from '../telemetry/log.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { ReportStore } from '../triage/reports.ts';
import { storeConnection, safeRedisUrl } from '../util/redis.ts';
import { formatTime } from '../util/time.ts';
import { configOrExit } from './common.ts';

const STATES = ['firing', 'resolved', 'all'] as const;
const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

type Opts = { config?: string };

function fail(message: string): never {
  process.stderr.write(`labwatch: ${message}\n`);
  process.exit(1);
}

function checkId(id: string): void {
  if (!INCIDENT_ID.test(id)) fail(`${JSON.stringify(id)} is not an incident id; ids look like inc-0123456789-mwv0a5ue (labwatch incidents list shows them)`);
}

/** Redis and the stores over it, as the daemon builds them; exits with one line when Redis does not answer. */
async function open(configFile: string | undefined) {
  const cfg = configOrExit(configFile);
  const redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (e) {
    fail(`Redis ${safeRedisUrl(cfg.redis.url)} unreachable (${(e as Error).message}); is redis-server running and redis.url right?`);
  }
  const retention = ms(cfg.incidents.retention) / 1000;
  const secrets = secretValues(cfg);
  const log = createLogger({ level: 'warn', secrets });
  // The daemon's pacing, so a resolution made here is due when the daemon would have made it due.
  const routes = cfg.notify.routes ?? DEFAULT_ROUTES;
  const pace = { waitMs: ms(cfg.notify.group_wait), intervalMs: ms(cfg.notify.group_interval) };
  const store = new IncidentStore(redis, cfg.redis.prefix, retention, (incident) => pacing(incident, routes, pace, ms));
  // Nothing is queued from here: the commit puts the news in the outbox, and the daemon's sweeper queues it.
  const intake = new Intake(store, async () => {}, log, new Metrics());
  const actions = new IncidentActions(redis, cfg.redis.prefix, retention, store, intake);
  const reports = new ReportStore(redis, cfg.redis.prefix, retention);
  const { audit } = buildToolbox(cfg, { redis, log });
  return { redis, secrets, store, actions, reports, audit };
}

/** "45s", "3m", "5h12m", "2d3h": a span of time, to its two largest units, rounded down. */
function span(msecs: number): string {
  const s = Math.max(0, Math.floor(msecs / 1000));
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => `${big}${bigUnit}${small ? `${small}${smallUnit}` : ''}`;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm');
  return s < 30 * 86_400 ? two(Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3600), 'h') : `${Math.floor(s / 86_400)}d`;
}

const age = (iso: string, now: number) => span(now - Date.parse(iso));

function marks(a: Attention, now: number): string {
  const out: string[] = [];
  if (a.acknowledged) out.push(`ack ${a.acknowledged.by}`);
  if (a.snoozedUntil) out.push(`snoozed ${span(Date.parse(a.snoozedUntil.until) - now)} left`);
  return out.join(', ');
}

export async function incidentsList(opts: Opts & { state?: string; severity?: string; host?: string; json?: boolean }): Promise<void> {
  const state = opts.state ?? 'firing';
  if (!(STATES as readonly string[]).includes(state)) fail(`--state ${state}: give firing, resolved or all`);
  const severities = opts.severity?.split(',').map((s) => s.trim()) ?? [];
  const unknown = severities.filter((s) => !(SEVERITIES as string[]).includes(s));
  if (unknown.length) fail(`--severity ${unknown.join(',')}: give critical, warning or info (several separated by commas)`);
  const c = await open(opts.config);
  const now = Date.now();
  const incidents = (await c.store.listRecent(1000))
    .filter((i) => (state === 'all' || i.status === state) && (!severities.length || severities.includes(i.severity)) && (!opts.host || onHost(i, opts.host)));
  const attention = await c.actions.attentionOfMany(incidents.map((i) => i.id), now);
  const reports = await Promise.all(incidents.map((i) => latestReport(c, i)));
  // The dashboard's rows in its order: scripts read one shape from both.
  const rows = redact(incidents.map((i, n) => incidentRow(i, reports[n] ?? null, attention[n]!)).sort(byUrgency), c.secrets);
  c.redis.disconnect();
  if (opts.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    const filtered = severities.length || opts.host ? ' matching those filters' : '';
    process.stdout.write(state === 'firing' ? `no incident is firing${filtered} (--state all shows the resolved ones too)\n` : `no ${state === 'all' ? '' : `${state} `}incidents${filtered}\n`);
    return;
  }
  const table = [['ID', 'SEVERITY', 'STATUS', 'AGE', 'HOST', 'ATTENTION', 'TITLE'], ...rows.map((r) => [r.id, r.severity, r.status, age(r.since, now), r.host || '-', marks(r.attention, now) || '-', r.title])];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  for (const row of table) process.stdout.write(row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ') + '\n');
}

type Ctx = Awaited<ReturnType<typeof open>>;

/** The incident's host, or the host of one of its alerts (a pool's incident names the disks' host too). */
const onHost = (i: Incident, host: string) => i.host === host || Object.values(i.anomalies).some((a) => a.host === host);

async function latestReport(c: Ctx, i: Incident) {
  const revision = await c.store.reportedRevision(i.id, i.revision);
  return revision > 0 ? c.reports.getReport(i.id, revision) : null;
}

export async function incidentsShow(id: string, opts: Opts & { json?: boolean }): Promise<void> {
  checkId(id);
  const c = await open(opts.config);
  const found = await c.store.getIncident(id);
  if (!found) {
    c.redis.disconnect();
    fail(`no incident ${id} (resolved incidents are kept for incidents.retention); labwatch incidents list --state all shows them`);
  }
  const [attention, log, report] = await Promise.all([c.actions.attention(id), c.actions.log(id), latestReport(c, found)]);
  c.redis.disconnect();
  const incident = redact(found, c.secrets);
  if (opts.json) {
    process.stdout.write(JSON.stringify(redact({ incident, attention, actions: log, report }, c.secrets), null, 2) + '\n');
    return;
  }
  const out: string[] = [];
  out.push(`${incident.id} · ${incident.status === 'resolved' ? 'RESOLVED' : incident.severity.toUpperCase()}${incident.host ? ` · ${incident.host}` : ''}`);
  out.push(incident.title);
  out.push(`Opened ${formatTime(incident.openedAt)}, firing since ${formatTime(incident.since)}${incident.resolvedAt ? `, resolved ${formatTime(incident.resolvedAt)}` : ''}; revision ${incident.revision}`);
  if (attention.acknowledged) out.push(`Acknowledged by ${attention.acknowledged.by} at ${formatTime(attention.acknowledged.at)}`);
  else if (incident.status === 'firing') out.push(`Not acknowledged (labwatch incidents ack ${incident.id})`);
  if (attention.snoozedUntil) out.push(`Snoozed until ${formatTime(attention.snoozedUntil.until)} by ${attention.snoozedUntil.by}`);
  out.push('', 'Alerts');
  for (const a of Object.values(incident.anomalies))
    out.push(`  ${a.status.padEnd(8)} ${a.severity.padEnd(8)} ${a.rule}${a.subject ? ` · ${a.subject}` : ''}${a.summary ? `: ${a.summary}` : ''} (since ${formatTime(a.startsAt)})`);
  out.push('', report ? `Report (revision ${report.revision}, as sent)` : 'Report: not reported yet', '');
  if (report) out.push(render(report, { secrets: c.secrets }).text.trimEnd(), '');
  if (log.length) {
    out.push('Actions');
    for (const e of log) out.push(`  ${formatTime(e.at)}  ${e.action} by ${e.by} (${e.via})${e.detail ? `, ${e.detail.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, formatTime)}` : ''}`);
  }
  process.stdout.write(out.join('\n').trimEnd() + '\n');
}

/** Runs one action on an incident as this user, audits it (ok or error), prints what happened or fails with one line. */
async function act(id: string, opts: Opts, tool: string, args: Record<string, unknown>, run: (c: Ctx, who: string) => Promise<string>): Promise<void> {
  checkId(id);
  const c = await open(opts.config);
  const who = `${userInfo().username}@${hostname()}`;
  const started = Date.now();
  let said = '';
  let error: Error | undefined;
  try {
    said = await run(c, who);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  await c.audit.record({ at: new Date(started).toISOString(), caller: 'cli', incident: id, tool, args, durationMs: Date.now() - started, bytes: 0, outcome: error ? 'error' : 'ok' });
  c.redis.disconnect();
  if (error) fail(error instanceof ActionError ? error.message : `${tool} ${id} failed: ${error.message}`);
  process.stdout.write(said + '\n');
}

export async function incidentsAck(id: string, opts: Opts): Promise<void> {
  await act(id, opts, 'incident_acknowledge', {}, async (c, who) => {
    const a = await c.actions.acknowledge(id, who, 'cli');
    const by = a.acknowledged!;
    return by.by === who ? `${id} acknowledged by ${who}: reminders stop until it resolves` : `${id} was already acknowledged by ${by.by} at ${formatTime(by.at)}`;
  });
}

export async function incidentsSnooze(id: string, duration: string, opts: Opts): Promise<void> {
  let forMs = NaN;
  try {
    forMs = ms(duration.trim());
  } catch {
    fail(`${JSON.stringify(duration)} is not a duration; give e.g. 30m, 24h or 7d (from 1 minute to 30 days)`);
  }
  await act(id, opts, 'incident_snooze', { duration }, async (c, who) => {
    const a = await c.actions.snooze(id, forMs, who, 'cli');
    return `${id} snoozed until ${formatTime(a.snoozedUntil!.until)}: no reminders or updates until then (an escalation or its resolution still goes out)`;
  });
}

export async function incidentsUnsnooze(id: string, opts: Opts): Promise<void> {
  await act(id, opts, 'incident_unsnooze', {}, async (c, who) => {
    await c.actions.unsnooze(id, who, 'cli');
    return `${id} is no longer snoozed`;
  });
}

export async function incidentsResolve(id: string, opts: Opts): Promise<void> {
  await act(id, opts, 'incident_resolve', {}, async (c, who) => {
    await c.actions.resolveByHand(id, who, 'cli');
    return `${id} resolved by hand by ${who}; the resolution is reported by the running daemon (if its source fires again, a new incident opens)`;
  });
}
