/**
 * Benchmark: sustained load through a real `labwatch run` process (the built CLI, workers on),
 * with a baseline measured in the same run on the same request schedule.
 *
 * Case "100 groups": 10,000 alerts in 60 s from 100 Alertmanager groups (100 alerts each), one
 * webhook delivery per new alert, the groups interleaved, posted open-loop at a steady rate over
 * HTTP to POST /webhook/alertmanager. Case "one group": 1,000 alerts of ONE group at the same rate.
 * Each alert is derived from the real Alertmanager 0.21 body (../shared/fixtures/alertmanager):
 * only the group key and labels, the fingerprint and the summary differ.
 *
 * labwatch runs with its default grouping in time (group_wait 10s, group_interval 5m), no model
 * (the deterministic report) and two channels on loopback: a real SMTP server and an ntfy
 * receiver, so every message is counted. The baseline is a bare fastify process answering each
 * delivery after one Redis SET of the body: the floor for "receive a webhook durably".
 *
 * Checked (the run exits 1 if any fails): every alert answered 200 is in its group's incident in
 * Redis; each group got exactly one report (one triage) and exactly one message per channel.
 * Printed: answers, p50/p99 latency, the time from the last answer until nothing is due within a
 * minute (outbox and queues), reports and messages, peak RSS (VmHWM) of the server process.
 *
 *   npm run build && node --import tsx bench/load.ts    (env: BENCH_LOAD_SCALE=1 shrinks or grows
 *   alerts, groups and duration together, e.g. 0.1 for a quick run; BENCH_LOAD_CASES=groups,one;
 *   LABWATCH_TEST_REDIS_URL)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { IncidentStore } from '../src/incidents/store.ts';
import { JobQueues } from '../src/queue/index.ts';
import { createLogger } from '../src/telemetry/log.ts';
import { TestNtfy } from '../test/helpers/ntfy.ts';
import { FIRING_AM021 } from '../test/helpers/payloads.ts';
import { startLabwatch } from '../test/helpers/process.ts';
import { TestSmtp } from '../test/helpers/smtp.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { buildState } from '../bin/built.js';

const SCALE = Number(process.env.BENCH_LOAD_SCALE ?? 1);
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PER_GROUP = 100;
/** Deliveries in flight at most: an open-loop schedule, but not an unbounded one. */
const MAX_IN_FLIGHT = 256;
const INCIDENT = /inc-[0-9a-f]{10}-[0-9a-z]{1,12}/;

interface Case {
  name: string;
  groups: number;
  alerts: number;
  seconds: number;
}
const groups = Math.max(1, Math.round(100 * SCALE));
const ONLY = (process.env.BENCH_LOAD_CASES ?? 'groups,one').split(',');
const CASES: Case[] = [
  { name: `${groups} groups`, groups, alerts: groups * PER_GROUP, seconds: 60 * SCALE },
  { name: 'one group', groups: 1, alerts: Math.max(10, Math.round(1000 * SCALE)), seconds: 6 * SCALE },
].filter((c) => ONLY.includes(c.groups === 1 ? 'one' : 'groups'));

const groupKey = (run: string, g: number) => `{}:{alertname="LoadTest", lab="${run}", group="g${g}"}`;

/** Delivery `i` of a case: the group's next new alert, in Alertmanager's webhook v4 shape. */
function delivery(run: string, c: Case, i: number): { group: number; fingerprint: string; body: string } {
  const g = i % c.groups;
  const k = Math.floor(i / c.groups);
  const p = JSON.parse(FIRING_AM021) as { alerts: Record<string, unknown>[] } & Record<string, unknown>;
  const fingerprint = `${run.slice(0, 6)}${g.toString(16).padStart(4, '0')}${k.toString(16).padStart(6, '0')}`;
  const labels = { alertname: 'LoadTest', lab: run, group: `g${g}`, instance: `node-${g}-${k}:9100`, severity: 'critical' };
  const alert = { ...p.alerts[0]!, labels, annotations: { summary: `load group g${g}: alert ${k}` }, fingerprint };
  const groupLabels = { alertname: 'LoadTest', lab: run, group: `g${g}` };
  return { group: g, fingerprint, body: JSON.stringify({ ...p, groupKey: groupKey(run, g), groupLabels, commonLabels: groupLabels, alerts: [alert] }) };
}

interface Posted {
  ok: number;
  failed: number;
  latencies: number[];
  /** per group, the fingerprints answered 200 */
  acked: Map<number, string[]>;
  lastAnswerAt: number;
  startedAt: number;
  behindMs: number;
}

/** Posts every delivery of the case at its scheduled time (open loop); latency from send to answer. */
async function post(url: string, run: string, c: Case): Promise<Posted> {
  const r: Posted = { ok: 0, failed: 0, latencies: [], acked: new Map(), lastAnswerAt: 0, startedAt: performance.now(), behindMs: 0 };
  const gap = (c.seconds * 1000) / c.alerts;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < c.alerts; i++) {
    const at = r.startedAt + i * gap;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    else r.behindMs = Math.max(r.behindMs, -wait);
    while (inFlight >= MAX_IN_FLIGHT) await Promise.race(pending);
    const d = delivery(run, c, i);
    inFlight++;
    const sent = performance.now();
    const p = fetch(`${url}/webhook/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: d.body })
      .then(async (res) => {
        await res.arrayBuffer();
        const now = performance.now();
        r.latencies.push(now - sent);
        r.lastAnswerAt = now;
        if (res.status !== 200) return void r.failed++;
        r.ok++;
        const list = r.acked.get(d.group) ?? [];
        list.push(d.fingerprint);
        r.acked.set(d.group, list);
      })
      .catch(() => void r.failed++)
      .finally(() => {
        inFlight--;
        pending.splice(pending.indexOf(p), 1);
      });
    pending.push(p);
  }
  await Promise.all(pending);
  return r;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Peak resident set (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The baseline: fastify, its default JSON parser, one Redis SET per delivery, as its own process. */
async function startBaseline(prefix: string): Promise<{ url: string; child: ChildProcess }> {
  const code = `
    import Fastify from 'fastify';
    import { Redis } from 'ioredis';
    const redis = new Redis(${JSON.stringify(REDIS_URL)}, { connectionName: 'lwbench-load-baseline', enableAutoPipelining: true });
    const app = Fastify({ logger: false });
    let n = 0;
    app.post('/webhook/alertmanager', async (req) => { await redis.set(${JSON.stringify(prefix)} + ':' + (n++ % 1000), JSON.stringify(req.body)); return { status: 'ok' }; });
    process.on('SIGTERM', async () => { await app.close(); await redis.quit(); process.exit(0); });
    console.log(await app.listen({ host: '127.0.0.1', port: 0 }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
  });
  return { url, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

interface Row {
  target: string;
  posted: Posted;
  rssMb: number;
  drainS?: number;
  reports?: number;
  emails?: number;
  ntfy?: number;
}

/** labwatch under the case's load: the numbers, and every correctness problem found. */
async function runLabwatch(c: Case, admin: Redis): Promise<{ row: Row; problems: string[] }> {
  const run = randomBytes(4).toString('hex');
  const prefix = `lwbench-load-${run}`;
  const smtp = await new TestSmtp().start();
  const ntfy = await new TestNtfy().start();
  const silent = createLogger({ level: 'silent' });
  const queues = new JobQueues({ redisUrl: REDIS_URL, prefix, attempts: 1, backoffMs: 1000 }, silent);
  const redis = new Redis(REDIS_URL, { connectionName: 'lwbench-load-check' });
  const store = new IncidentStore(redis, prefix, 3600);
  // Cleaned up whatever happens from here, even if labwatch does not start.
  const started = startLabwatch(`
redis:
  url: "${REDIS_URL}"
  prefix: ${prefix}
http:
  listen: "127.0.0.1:0"
notify:
  public_url: "http://labwatch.lab.example"
  email:
    host: 127.0.0.1
    port: ${smtp.port}
    secure: false
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]
  ntfy:
    url: ${ntfy.url}
    topic: homelab
log:
  level: info
watch:
  smart: { enabled: false }
  zfs: { enabled: false }
  host: { enabled: false }
`);
  started.catch(() => {});
  const problems: string[] = [];
  let proc: Awaited<typeof started> | undefined;
  try {
    proc = await started;
    const posted = await post(proc.url, run, c);
    // Drained: no report due within a minute (updates wait group_interval, 5 min) and no job left.
    const drained = async () => {
      const soon = Date.now() + 60_000;
      if ((await redis.zcount(`${prefix}:outbox`, '-inf', soon)) > 0) return false;
      for (const [name, n] of Object.entries(await queues.counts())) {
        if ((n.waiting ?? 0) + (n.active ?? 0) + (n.prioritized ?? 0) > 0) return false;
        if ((n.delayed ?? 0) > 0 && (await queues.delayed(name as 'triage')).some((j) => j.runAt <= soon)) return false;
      }
      return true;
    };
    await waitFor('labwatch to drain its outbox and queues', drained, 120_000, 100);
    const drainS = (performance.now() - posted.lastAnswerAt) / 1000;
    const rssMb = peakRssMb(proc.child.pid!);

    // Every acknowledged alert is in its group's incident.
    let lost = 0;
    const incidents = new Map<string, number>();
    for (let g = 0; g < c.groups; g++) {
      const incident = await store.groupIncident(`alertmanager:${groupKey(run, g)}`);
      if (incident) incidents.set(incident.id, g);
      for (const fp of posted.acked.get(g) ?? []) if (!incident?.anomalies[fp]) lost++;
    }
    if (lost) problems.push(`${lost} acknowledged alerts are in no incident`);
    if (incidents.size !== c.groups) problems.push(`${incidents.size} incidents for ${c.groups} groups`);
    // One report (one triage) and one message per channel for each group.
    const reports = (await scanCount(admin, `${prefix}:report:*`));
    if (reports !== c.groups) problems.push(`${reports} reports made for ${c.groups} groups (expected one each)`);
    const perIncident = (texts: string[], channel: string) => {
      const seen = new Map<string, number>();
      for (const t of texts) {
        const id = INCIDENT.exec(t)?.[0] ?? '?';
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      for (const [id, n] of seen) if (n > 1) problems.push(`${channel}: ${n} messages about ${id} (expected one)`);
      const missing = [...incidents.keys()].filter((id) => !seen.has(id));
      if (missing.length) problems.push(`${channel}: no message for ${missing.length} of ${c.groups} groups (e.g. ${missing[0]})`);
    };
    perIncident(smtp.messages.map((m) => `${m.parsed.messageId ?? ''} ${m.parsed.text ?? ''}`), 'email');
    perIncident(ntfy.published.map((r) => `${JSON.stringify(r.headers)} ${r.body}`), 'ntfy');
    return {
      row: { target: 'labwatch', posted, rssMb, drainS, reports, emails: smtp.messages.length, ntfy: ntfy.published.length },
      problems,
    };
  } finally {
    if (proc) await stop(proc.child);
    await queues.stop(1000);
    await redis.quit();
    await smtp.stop();
    await ntfy.stop();
    await deleteKeys(admin, `${prefix}:*`);
  }
}

async function scanCount(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

async function runBaseline(c: Case, admin: Redis): Promise<Row> {
  const prefix = `lwbench-load-base-${randomBytes(4).toString('hex')}`;
  const { url, child } = await startBaseline(prefix);
  try {
    const posted = await post(url, randomBytes(4).toString('hex'), c);
    return { target: 'baseline', posted, rssMb: peakRssMb(child.pid!) };
  } finally {
    await stop(child);
    await deleteKeys(admin, `${prefix}:*`);
  }
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const fmt = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));

async function main(): Promise<void> {
  const admin = new Redis(REDIS_URL, { connectionName: 'lwbench-load-admin' });
  const build = buildState();
  console.log(`labwatch load benchmark  ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpus().length} CPUs, redis ${REDIS_URL}, scale ${SCALE}; labwatch from ${build.fresh ? 'the build (dist/)' : 'the sources through tsx (dist/ is stale: npm run build)'}`);
  console.log('labwatch: group_wait 10s, group_interval 5m (defaults), deterministic reports, email (SMTP) + ntfy on loopback\n');
  console.log(`${'case'.padEnd(12)}${'target'.padEnd(10)}${pad('alerts', 7)}${pad('200', 7)}${pad('other', 6)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('behind ms', 10)}${pad('drain s', 8)}${pad('reports', 8)}${pad('emails', 7)}${pad('ntfy', 6)}${pad('RSS MB', 8)}`);
  const problems: string[] = [];
  try {
    for (const c of CASES) {
      const base = await runBaseline(c, admin);
      const lab = await runLabwatch(c, admin);
      for (const r of [base, lab.row]) {
        const l = r.posted.latencies;
        console.log(
          `${c.name.padEnd(12)}${r.target.padEnd(10)}${pad(c.alerts, 7)}${pad(r.posted.ok, 7)}${pad(r.posted.failed, 6)}${pad(fmt(pct(l, 50)), 8)}${pad(fmt(pct(l, 99)), 8)}${pad(fmt(r.posted.behindMs, 0), 10)}${pad(fmt(r.drainS), 8)}${pad(r.reports ?? '-', 8)}${pad(r.emails ?? '-', 7)}${pad(r.ntfy ?? '-', 6)}${pad(fmt(r.rssMb, 0), 8)}`,
        );
      }
      problems.push(...lab.problems.map((p) => `${c.name}: ${p}`));
    }
  } finally {
    await admin.quit();
  }
  console.log('\ndrain s: from the last answer until nothing is due within a minute; behind ms: how late the load generator sent its latest delivery');
  if (problems.length) {
    console.log(`\nCORRECTNESS FAILED:\n- ${problems.join('\n- ')}`);
    process.exit(1);
  }
  console.log('\ncorrectness: every acknowledged alert is in its incident; one report and one message per channel per group');
  process.exit(0);
}

await main();
