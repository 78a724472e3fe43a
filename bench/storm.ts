/**
 * Benchmark: an alert storm through the real labwatch daemon, against Alertmanager's own grouping
 * as the baseline, measured in the same run.
 *
 * Storm: BENCH_ALERTS (1,000) new alerts in one group, posted one request at a time (a failing
 * switch or a dying NFS server under a short group_interval, or several senders posting to one
 * group), then all of them resolved (in requests of 250). Each target runs the same storm:
 * - labwatch with grouping off (group_wait 0s, group_interval 0s): every change is reported, as
 *   labwatch did before grouping in time existed;
 * - labwatch with group_wait / group_interval (BENCH_WAIT 2s, BENCH_INTERVAL 20s: the defaults
 *   10s / 5m scaled down so a run takes minutes, not hours);
 * - the real Alertmanager (Debian's prometheus-alertmanager, when installed) with the same
 *   group_wait / group_interval and group_by [alertname], the alerts posted to POST /api/v2/alerts
 *   one at a time (resolved: the same alerts with endsAt = now), its webhook receiver counting the
 *   notifications it sends: one per group per interval, the behaviour to match.
 * labwatch triages with a scripted Anthropic API on loopback that answers every request at once
 * with a valid report (the real SDK talks to it) and notifies a real SMTP server and an ntfy
 * receiver on loopback. Once the first notification is out, every alert is resolved; a run ends
 * when the resolution has been announced (and, for labwatch, the queues have drained).
 *
 * Columns: storm = seconds to post the firing alerts; p50 / p99 = webhook (or Alertmanager API)
 * latency of those posts; triage = investigations (requests to the model API that start one);
 * model MB = request bytes sent to the model API; emails, ntfy (Alertmanager: webhook
 * notifications); Redis MB = MEMORY USAGE summed over the target's keys after the storm;
 * RSS MB = the process's peak resident set during the run (labwatch runs in this process).
 *
 *   node --import tsx bench/storm.ts      (env: BENCH_ALERTS, BENCH_WAIT, BENCH_INTERVAL)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.ts';
import { Daemon } from '../src/daemon.ts';
import { createLogger } from '../src/telemetry/log.ts';
import { ScriptedAnthropic } from '../test/helpers/anthropic.ts';
import { closeServer, listenLoopback } from '../test/helpers/loopback.ts';
import { TestNtfy } from '../test/helpers/ntfy.ts';
import { LISTEN_ANY, PEER_BINS, peersMissing, startPeer } from '../test/helpers/peers.ts';
import { TestSmtp } from '../test/helpers/smtp.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { stormAlert, stormBody } from '../test/helpers/payloads.ts';

const N = Number(process.env.BENCH_ALERTS ?? 1000);
const WAIT = process.env.BENCH_WAIT ?? '2s';
const INTERVAL = process.env.BENCH_INTERVAL ?? '20s';
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHUNK = 250;

interface Row {
  target: string;
  stormS: number;
  p50: number;
  p99: number;
  triage: number | string;
  modelMB: number | string;
  emails: number | string;
  ntfy: number | string;
  redisMB: number | string;
  rssMB: number | string;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

async function redisBytes(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let bytes = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) bytes += Number((await redis.call('MEMORY', 'USAGE', k)) ?? 0);
  } while (cursor !== '0');
  return bytes;
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Samples this process's RSS until stopped; returns the peak in MB. */
function rssSampler(): () => number {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return () => (clearInterval(t), Math.round(peak / 1e6));
}

async function runLabwatch(name: string, wait: string, interval: string, admin: Redis): Promise<Row> {
  const prefix = `lwbench-storm-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-'));
  const smtp = await new TestSmtp({ user: 'lab@example.org', password: 'bench-smtp-password' }).start();
  const ntfy = await new TestNtfy().start();
  const api = await new ScriptedAnthropic().start();
  const answer = { summary: 'An alert storm in one group.', facts: [{ text: 'many alerts', tool_call: 'incident_get' }], causes: [], actions: [{ text: 'Look at the NFS server', urgency: 'soon' }], not_checked: [] };
  api.script(...Array.from({ length: 4 * N + 100 }, () => ({ toolUse: [{ name: 'submit_report', input: answer }] })));
  writeFileSync(join(dir, 'smtp'), 'bench-smtp-password\n');
  writeFileSync(join(dir, 'key'), 'bench-key\n');
  const file = join(dir, 'labwatch.yaml');
  writeFileSync(
    file,
    `redis:\n  url: "${REDIS_URL}"\n  prefix: ${prefix}\nhttp:\n  listen: "127.0.0.1:0"\nlog:\n  level: error\n` +
      `notify:\n  group_wait: ${wait}\n  group_interval: ${interval}\n  email: { host: 127.0.0.1, port: ${smtp.port}, secure: false, user: lab@example.org, password_file: ${join(dir, 'smtp')}, from: "labwatch <lab@example.org>", to: [owner@example.org] }\n` +
      `  ntfy: { url: "${ntfy.url}", topic: homelab }\n` +
      `anthropic:\n  api_key_file: ${join(dir, 'key')}\n  base_url: "${api.url}"\n` +
      `audit:\n  file: ${join(dir, 'audit.jsonl')}\nwatch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n`,
  );
  const daemon = new Daemon(loadConfig(file, {}), createLogger({ level: 'error', destination: { write() {} } }));
  await daemon.start();
  const peak = rssSampler();
  const post = async (body: string) => {
    const t = performance.now();
    const res = await fetch(`${daemon.address}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${name}: webhook answered ${res.status}`);
    return performance.now() - t;
  };
  try {
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) latencies.push(await post(stormBody([stormAlert(i)])));
    const stormS = (performance.now() - t0) / 1000;
    const redisMB = (await redisBytes(admin, prefix)) / 1e6;
    // Resolve once the storm has been announced (what resolves within group_wait is never sent).
    await waitFor(`${name}: the first report by email`, () => smtp.messages.length > 0, 600_000, 100);
    for (let i = 0; i < N; i += CHUNK) await post(stormBody(Array.from({ length: Math.min(CHUNK, N - i) }, (_, k) => stormAlert(i + k, 'resolved'))));
    await waitFor(`${name}: the resolution by email`, () => smtp.messages.some((m) => /^\[RESOLVED\]/.test(m.parsed.subject ?? '')), 600_000, 200);
    await waitFor(
      `${name}: the queues to drain`,
      async () => Object.values(await daemon.queues.counts()).every((c) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) === 0),
      600_000,
      200,
    );
    // An investigation's first request carries one user message: the incident.
    const triage = api.requests.filter((r) => r.body.messages.length === 1).length;
    const modelMB = api.requests.reduce((n, r) => n + Buffer.byteLength(r.raw), 0) / 1e6;
    return { target: name, stormS, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), triage, modelMB, emails: smtp.messages.length, ntfy: ntfy.published.length, redisMB, rssMB: peak() };
  } finally {
    peak();
    await daemon.stop();
    await Promise.all([smtp.stop(), ntfy.stop(), api.stop()]);
    await deleteKeys(admin, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAlertmanager(wait: string, interval: string): Promise<Row | string> {
  const missing = (() => {
    try {
      return peersMissing();
    } catch (e) {
      return (e as Error).message;
    }
  })();
  if (missing) return missing;
  const notifications: { status: string; alerts: number }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status: string; alerts: unknown[] };
      notifications.push({ status: p.status, alerts: p.alerts.length });
      res.end('ok');
    });
  });
  const receiverUrl = await listenLoopback(receiver);
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-am-'));
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: ${wait}\n  group_interval: ${interval}\n  repeat_interval: 1h\nreceivers:\n  - name: r\n    webhook_configs:\n      - url: ${receiverUrl}/\n        send_resolved: true\n`,
  );
  const am = await startPeer('alertmanager', PEER_BINS.alertmanager, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, LISTEN_ANY, '--cluster.listen-address=', '--log.level=warn'], '/-/ready');
  const toAm = (a: Record<string, unknown>, endsAt?: string) => ({ labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL, ...(endsAt ? { endsAt } : {}) });
  const post = async (alerts: unknown[]) => {
    const t = performance.now();
    const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alerts) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`alertmanager answered ${res.status}`);
    return performance.now() - t;
  };
  try {
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) latencies.push(await post([toAm(stormAlert(i))]));
    const stormS = (performance.now() - t0) / 1000;
    await waitFor('alertmanager: the first notification', () => notifications.length > 0, 600_000, 100);
    const ended = new Date().toISOString();
    for (let i = 0; i < N; i += CHUNK) await post(Array.from({ length: Math.min(CHUNK, N - i) }, (_, k) => toAm(stormAlert(i + k), ended)));
    await waitFor('alertmanager: the resolution', () => notifications.some((n) => n.status === 'resolved'), 600_000, 200);
    return { target: 'Alertmanager', stormS, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), triage: '-', modelMB: '-', emails: notifications.length, ntfy: '-', redisMB: '-', rssMB: '-' };
  } finally {
    await am.stop();
    await closeServer(receiver);
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (v: number | string, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : v);

async function main(): Promise<void> {
  const admin = new Redis(REDIS_URL, { connectionName: 'lwbench-admin' });
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    console.log(`labwatch storm benchmark  ${new Date().toISOString()}`);
    console.log(`node ${process.version}, ${cpus().length} CPUs, ${N} new alerts in one group one request at a time, then all resolved; redis ${REDIS_URL}\n`);
    const am = await runAlertmanager(WAIT, INTERVAL);
    if (typeof am === 'string') notes.push(`Alertmanager not run: ${am}`);
    else rows.push(am);
    rows.push(await runLabwatch(`labwatch ${WAIT}/${INTERVAL}`, WAIT, INTERVAL, admin));
    rows.push(await runLabwatch('labwatch 0s/0s', '0s', '0s', admin));
  } finally {
    await admin.quit();
  }
  const head = ['target', 'storm s', 'p50 ms', 'p99 ms', 'triage', 'model MB', 'emails', 'ntfy', 'Redis MB', 'RSS MB'];
  const widths = [22, 8, 8, 8, 8, 9, 8, 6, 9, 7];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('');
  console.log(`group_wait/group_interval: ${WAIT}/${INTERVAL} (Alertmanager: the same; its "emails" column counts webhook notifications)`);
  console.log(line(head));
  for (const r of rows) console.log(line([r.target, fmt(r.stormS), fmt(r.p50), fmt(r.p99), String(r.triage), fmt(r.modelMB, 2), String(r.emails), String(r.ntfy), fmt(r.redisMB, 2), String(r.rssMB)]));
  for (const n of notes) console.log(`\n${n}`);
  process.exit(0);
}

await main();
