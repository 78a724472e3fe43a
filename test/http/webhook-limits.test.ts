/**
 * Oversized Alertmanager payloads, each under the 4 MiB body limit, against a real `labwatch run`
 * child process (its own memory, not the test's) with real Redis, SMTP and ntfy on loopback:
 * 1 MiB label and annotation values, thousands of labels, 5,000 and 40,000 alerts in one group.
 * While Redis is up none of them may get a 5xx, each is answered in bounded time, and the daemon's
 * peak resident memory (VmHWM) stays under 300 MB. Values are cut with a visible marker and counted.
 *
 * Every payload is the real Alertmanager 0.21 body (../shared/fixtures) blown up by this test:
 * adversarial inputs, not captures.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { TestSmtp } from '../helpers/smtp.ts';
import { TestNtfy } from '../helpers/ntfy.ts';
import { waitFor } from '../helpers/wait.ts';
import { IncidentStore } from '../../src/incidents/store.ts';

const MiB = 1 << 20;
const TOKEN = 'lw-limits-token-3b9f';
/** The daemon's peak resident set may not pass this. */
const RSS_LIMIT = 300e6;
/** No answer may take longer (Alertmanager's own webhook timeout is 10 s by default in recent versions). */
const ANSWER_LIMIT_MS = 5_000;

type Alert = Record<string, unknown> & { labels: Record<string, string>; annotations: Record<string, string> };
const base = () => JSON.parse(FIRING_AM021) as { groupKey: string; alerts: Alert[] };

/** One alert whose labels and annotations carry `n` values of `bytes` each. */
function hugeValues(tag: string, n: number, bytes: number): string {
  const p = base();
  p.groupKey = `{}:{alertname="Huge-${tag}"}`;
  const a = p.alerts[0]!;
  a.fingerprint = randomBytes(8).toString('hex');
  for (let i = 0; i < n; i++) a.labels[`big${i}`] = String.fromCharCode(97 + i).repeat(bytes);
  a.annotations.description = 'é'.repeat(bytes / 4); // two bytes each in UTF-8: half of `bytes`
  return JSON.stringify(p);
}

/** One alert with `n` distinct labels. */
function manyLabels(n: number): string {
  const p = base();
  p.groupKey = '{}:{alertname="ManyLabels"}';
  const a = p.alerts[0]!;
  for (let i = 0; i < n; i++) a.labels[`label_${i}`] = `v${i}`.padEnd(900, 'x');
  return JSON.stringify(p);
}

/** `n` alerts of one group, each `pad` bytes bigger than the fixture's. */
function manyAlerts(tag: string, n: number, pad: number): string {
  const p = base();
  p.groupKey = `{}:{alertname="Many-${tag}"}`;
  const a = p.alerts[0]!;
  p.alerts = Array.from({ length: n }, (_, i) => ({
    ...a,
    fingerprint: (0x2000000000000 + i).toString(16),
    labels: { ...a.labels, server: `host-${i}` },
    annotations: { summary: `host-${i} is down`, ...(pad ? { description: 'd'.repeat(pad) } : {}) },
  }));
  return JSON.stringify(p);
}

/** As many of the smallest valid alerts as fit under the body limit. */
function smallestAlerts(n: number): string {
  const p = base();
  p.groupKey = '{}:{alertname="Smallest"}';
  const alerts = Array.from({ length: n }, (_, i) => ({ status: 'firing', labels: { i: String(i) }, startsAt: '2021-01-07T08:38:00Z' }));
  return JSON.stringify({ ...p, alerts });
}

let run: LabwatchProcess;
let smtp: TestSmtp;
let ntfy: TestNtfy;
let redis: Redis;
const prefix = `lwtest-limits-${randomBytes(4).toString('hex')}`;

/** The child's peak resident set size so far, from the kernel (Linux), in bytes. */
function peakRss(): number {
  const status = readFileSync(`/proc/${run.child.pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

before(async () => {
  smtp = await new TestSmtp({ user: 'lab@example.org', password: 'smtp-pass' }).start();
  ntfy = await new TestNtfy().start();
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-limits-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  run = await startLabwatch(`
redis:
  url: "${TEST_REDIS_URL}"
  prefix: ${prefix}
http:
  listen: "127.0.0.1:0"
  token_file: ${file('token', TOKEN)}
notify:
  email:
    host: 127.0.0.1
    port: ${smtp.port}
    secure: false
    user: lab@example.org
    password_file: ${file('smtp-password', 'smtp-pass')}
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]
  ntfy:
    url: ${ntfy.url}
    topic: homelab
  group_wait: 0s
  group_interval: 0s
queue:
  backoff: 100ms
log:
  level: info
audit:
  file: ${join(dir, 'audit.jsonl')}
watch:
  smart: { enabled: false }
  zfs: { enabled: false }
  host: { enabled: false }
`);
  redis = new Redis(TEST_REDIS_URL);
});

after(async () => {
  run?.child.kill('SIGTERM');
  await run?.exited;
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await smtp?.stop();
  await ntfy?.stop();
});

async function post(body: string): Promise<{ status: number; ms: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await fetch(`${run.url}/webhook/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body,
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text: text.slice(0, 200) };
  }
  return { status: res.status, ms, json };
}

test('oversized payloads under the body limit: no 5xx, every answer in bounded time, the daemon under 300 MB', { skip: !existsSync('/proc/self/status') && 'needs /proc (Linux) to read the peak RSS', timeout: 60_000 }, async (t) => {
  const bodies: [string, string][] = [
    ['three 1 MiB labels and a 512 KiB description', hugeValues('a', 3, MiB)],
    ['the same again, another group', hugeValues('b', 3, MiB)],
    ['2,000 labels of 900 bytes', manyLabels(2000)],
    ['5,000 alerts in one group', manyAlerts('a', 5000, 300)],
    ['40,000 of the smallest alerts', smallestAlerts(40_000)],
  ];
  for (const [what, body] of bodies) assert.ok(Buffer.byteLength(body) < 4 * MiB, `${what}: ${Buffer.byteLength(body)} bytes is under the body limit`);

  const answers: string[] = [];
  const phases = [`started: ${Math.round(peakRss() / 1e6)} MB`];
  const check = (what: string, r: Awaited<ReturnType<typeof post>>) => {
    answers.push(`${what}: ${r.status} in ${Math.round(r.ms)} ms`);
    assert.ok(r.status < 500, `${what}: ${r.status} ${JSON.stringify(r.json)}`);
    assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.json)}`);
    assert.ok(r.ms < ANSWER_LIMIT_MS, `${what}: answered in ${Math.round(r.ms)} ms`);
  };
  // All at once, as several Alertmanager groups flushing together.
  const first = await Promise.all(bodies.map(([, body]) => post(body)));
  first.forEach((r, i) => check(bodies[i]![0], r));
  phases.push(`after the first deliveries: ${Math.round(peakRss() / 1e6)} MB`);
  // The reports of the new incidents are made and sent (that is where big values cost the most):
  // every group by ntfy, the critical ones by email too (the smallest alerts have no severity: warning).
  await waitFor('a report for each of the five groups', () => ntfy.published.length >= 5 && smtp.messages.length >= 4, 20_000);
  phases.push(`after the reports: ${Math.round(peakRss() / 1e6)} MB`);
  // Alertmanager's next flush of each group sends the same alerts again.
  for (const [what, body] of bodies) check(`${what} (again)`, await post(body));
  phases.push(`after the repeats: ${Math.round(peakRss() / 1e6)} MB`);

  const peak = peakRss();
  t.diagnostic(`peak RSS ${Math.round(peak / 1e6)} MB; ${phases.join(', ')}; slowest answer ${Math.round(Math.max(...answers.map((a) => Number(/in (\d+) ms/.exec(a)![1]))))} ms`);
  assert.ok(peak < RSS_LIMIT, `peak RSS ${Math.round(peak / 1e6)} MB (limit ${RSS_LIMIT / 1e6} MB); peak ${phases.join(', ')}; answers: ${answers.join('; ')}`);

  // The cuts are visible where a person reads them, and counted.
  const cut = smtp.messages.map((m) => m.parsed.text ?? '').filter((t) => /a{4096}…\[truncated 1044480 bytes\]/.test(t));
  assert.equal(cut.length, 2, 'the report of each huge alert shows its 1 MiB label cut to 4 KiB, with the marker');
  const metrics = await (await fetch(`${run.url}/metrics`)).text();
  assert.match(metrics, /^labwatch_webhook_truncated_total\{source="alertmanager",what="label_value"\} [1-9]/m);
  assert.match(metrics, /^labwatch_webhook_truncated_total\{source="alertmanager",what="annotation_value"\} [1-9]/m);
  assert.match(metrics, /^labwatch_webhook_truncated_total\{source="alertmanager",what="labels"\} [1-9]/m);
  // 4,500 of the 5,000 and 39,500 of the 40,000, each delivered twice
  assert.match(metrics, /^labwatch_webhook_truncated_total\{source="alertmanager",what="alerts"\} 88000$/m);

  // The alerts beyond the first 500 of a delivery are named on every alert kept.
  const store = new IncidentStore(redis, prefix, 3600);
  for (const i of [3, 4]) {
    const incident = await store.getIncident((first[i]!.json.incidents as string[])[0]!);
    const kept = Object.values(incident!.anomalies);
    assert.equal(kept.length, 500, `${bodies[i]![0]}: the first 500 are kept`);
    for (const a of kept) assert.match(a.annotations.labwatch_truncated ?? '', /carried (5000|40000) alerts and labwatch took the first 500 .*max_alerts: 500/);
  }
});
