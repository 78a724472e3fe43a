/**
 * What the fault tests share: the channels a homelab points labwatch at (a real SMTP server, an
 * ntfy receiver, a webhook receiver, optionally Gotify and Apprise) on loopback, the YAML a user
 * would write for them, alerts in groups of their own, and the counts a user would check — how
 * many messages each incident got on each channel. Processes are real `labwatch run` children
 * (test/helpers/process.ts); the queues are read from Redis, as `drained` reads them in-process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { JobQueues } from '../../src/queue/index.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { testApprise, testGotify, testWebhook, type Receiver } from '../helpers/channels.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import type { LabwatchProcess } from '../helpers/process.ts';
import { TestNtfy } from '../helpers/ntfy.ts';
import { TestSmtp } from '../helpers/smtp.ts';
import { drained, type Drainable } from '../helpers/wait.ts';

export const PUBLIC_URL = 'http://labwatch.home.arpa';
const INCIDENT = /inc-[0-9a-f]+-[0-9a-z]+/;
const GOTIFY_TOKEN = 'AWH0wZ5r0Mbac.r';

/** The channels' stand-ins, each recording what it was sent. */
export class Channels {
  readonly dir = mkdtempSync(join(tmpdir(), 'labwatch-faults-'));
  smtp = new TestSmtp();
  ntfy = new TestNtfy();
  hook = testWebhook();
  gotify: Receiver | undefined;
  apprise: Receiver | undefined;

  constructor(private readonly opts: { all?: boolean } = {}) {}

  async start(): Promise<this> {
    await this.smtp.start();
    await this.ntfy.start();
    await this.hook.start();
    if (this.opts.all) {
      this.gotify = await testGotify(GOTIFY_TOKEN).start();
      this.apprise = await testApprise({ labwatch: [{ url: 'tgram://bot/chat', tags: ['homelab'] }] }).start();
    }
    return this;
  }

  async stop(): Promise<void> {
    await this.smtp.stop();
    await this.ntfy.stop();
    await this.hook.stop();
    await this.gotify?.stop();
    await this.apprise?.stop();
  }

  /**
   * The notify: channel blocks for these stand-ins (as a user writes them); `via` points a channel
   * elsewhere (a Gate in front of it): the SMTP port, or an HTTP channel's base URL.
   */
  yaml(via: { smtpPort?: number; ntfy?: string; webhook?: string; gotify?: string; apprise?: string } = {}): string {
    const token = join(this.dir, 'gotify-token');
    writeFileSync(token, GOTIFY_TOKEN + '\n', { mode: 0o600 });
    return [
      `  public_url: ${PUBLIC_URL}`,
      `  email: { host: 127.0.0.1, port: ${via.smtpPort ?? this.smtp.port}, secure: false, from: "labwatch <lab@example.org>", to: [owner@example.org] }`,
      `  ntfy: { url: "${via.ntfy ?? this.ntfy.url}", topic: homelab }`,
      `  webhook: { url: "${via.webhook ?? this.hook.url}/hook" }`,
      ...(this.gotify ? [`  gotify: { url: "${via.gotify ?? this.gotify.url}", token_file: ${token} }`] : []),
      ...(this.apprise ? [`  apprise: { url: "${via.apprise ?? this.apprise.url}", key: labwatch, tags: [homelab] }`] : []),
    ].join('\n');
  }

  /** Per channel, how many messages each incident got (incident id → count). */
  perIncident(): Record<string, Map<string, number>> {
    const count = (ids: (string | undefined)[]) => {
      const m = new Map<string, number>();
      for (const id of ids) if (id) m.set(id, (m.get(id) ?? 0) + 1);
      return m;
    };
    const idIn = (s: unknown) => INCIDENT.exec(String(s ?? ''))?.[0];
    const out: Record<string, Map<string, number>> = {
      email: count(this.smtp.messages.map((m) => idIn(`${m.parsed.messageId} ${m.parsed.inReplyTo ?? ''}`))),
      ntfy: count(this.ntfy.published.map((r) => idIn(`${r.headers.click ?? ''} ${r.body}`))),
      webhook: count(this.hook.accepted.map((r) => idIn((r.json as { incident_id?: string }).incident_id))),
    };
    if (this.gotify) out.gotify = count(this.gotify.accepted.map((r) => idIn(JSON.stringify(r.json))));
    if (this.apprise) out.apprise = count(this.apprise.accepted.map((r) => idIn(JSON.stringify(r.json))));
    return out;
  }

  /** Incidents that got a message other than once on some channel, as "channel incident ×n" (empty: all once). */
  notOnce(incidents: readonly string[]): string[] {
    const per = this.perIncident();
    const wrong: string[] = [];
    for (const id of incidents) for (const [channel, m] of Object.entries(per)) if ((m.get(id) ?? 0) !== 1) wrong.push(`${channel} ${id} ×${m.get(id) ?? 0}`);
    for (const [channel, m] of Object.entries(per)) for (const id of m.keys()) if (!incidents.includes(id)) wrong.push(`${channel} ${id}: a message for an unknown incident`);
    return wrong;
  }
}

/** A labwatch config for one test: its Redis and prefix, the channels, and extra top-level YAML. */
export function faultYaml(o: {
  redisUrl: string;
  prefix: string;
  channels: Channels;
  via?: Parameters<Channels['yaml']>[0];
  notify?: string;
  /** audit.file (default: in the channels' temporary folder) */
  auditFile?: string;
  /** the watch: block (default: every collector off) */
  watch?: string;
  extra?: string;
}): string {
  return `
redis:
  url: "${o.redisUrl}"
  prefix: ${o.prefix}
http:
  listen: "127.0.0.1:0"
notify:
${o.channels.yaml(o.via)}
${o.notify ?? ''}
log:
  level: debug
audit:
  file: ${o.auditFile ?? join(o.channels.dir, 'audit.jsonl')}
${o.watch ?? 'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }'}
${o.extra ?? ''}
`;
}

/**
 * One critical alert in its own Alertmanager group `name` (the real 0.21 payload, relabelled):
 * each name is one incident, and posting it again is a repeat of the same alert (no news).
 */
export function groupAlert(name: string): string {
  const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string>; annotations: Record<string, string>; fingerprint?: string }[]; groupKey: string; commonLabels: Record<string, string>; groupLabels: Record<string, string> };
  const labels = { alertname: 'NfsMountStale', instance: `${name}:9100`, severity: 'critical', group: name };
  p.alerts[0]!.labels = labels;
  p.alerts[0]!.annotations = { summary: `NFS mount stale on ${name}` };
  delete p.alerts[0]!.fingerprint;
  p.commonLabels = labels;
  p.groupLabels = { group: name };
  p.groupKey = `{}:{group="${name}"}`;
  return JSON.stringify(p);
}

/** POSTs an Alertmanager body to a running labwatch: the status and Retry-After a sender sees (0 when the connection failed). */
export async function postAlert(url: string, body: string): Promise<{ status: number; retryAfter: string | null }> {
  try {
    const res = await fetch(`${url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 0, retryAfter: null };
  }
}

/** The ids of every incident under `prefix` (as `labwatch incidents` lists them). */
export async function incidentIds(redis: Redis, prefix: string): Promise<string[]> {
  const ids = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:incident:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const id = INCIDENT.exec(k)?.[0];
      if (id) ids.add(id);
    }
  } while (cursor !== '0');
  return [...ids];
}

/**
 * A read-only view of a process's queues and outbox in Redis, for `drained` (never started: it
 * runs no job). `close()` disconnects it and deletes every key under the prefix.
 */
export function queuesOf(redisUrl: string, prefix: string): Drainable & { drained(timeoutMs?: number): Promise<void>; close(): Promise<void> } {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const queues = new JobQueues({ redisUrl, prefix, attempts: 1, backoffMs: 1000 }, createLogger({ level: 'fatal' }));
  const view = {
    daemon: { queues },
    redis,
    prefix,
    drained: (timeoutMs = 20_000) => drained(view, timeoutMs),
    async close() {
      await queues.stop(1000).catch(() => {});
      const keys = await redis.keys(`${prefix}:*`).catch(() => [] as string[]);
      if (keys.length) await redis.del(...keys).catch(() => {});
      redis.disconnect();
    },
  };
  return view;
}

/** SIGKILLs what is still running (after a failed test), then waits for it to go. */
export async function killAll(procs: LabwatchProcess[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** A metric series' value from /metrics (labels included in `series`), or undefined. */
export async function metricOf(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
