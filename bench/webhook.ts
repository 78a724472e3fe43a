/**
 * Benchmark: POST /webhook/alertmanager of the real labwatch daemon against a baseline, in one run.
 *
 * The baseline is the floor any webhook receiver on this stack pays: fastify 5 with its default
 * JSON parsing, plus exactly one Redis round trip (SET of the raw body), answering 200. labwatch
 * adds validation, incident merging (GET + Lua compare-and-set) and, for new incidents, queueing
 * triage; the ratio labwatch/baseline says how much that costs. Targets: >= 50 % for repeats, >= 35 %
 * for new alerts (each one opens an incident: a durable commit that also records its report due).
 *
 * Scenarios: "repeat" re-sends the identical Alertmanager payload (the group_interval re-send that
 * labwatch must dedupe: the common case); "new alerts" gives every request a distinct alert
 * (fingerprint, groupKey, labels.instance), so each one opens an incident and queues work.
 *
 * autocannon runs in a worker thread so the load generator does not share the event loop with
 * the servers under test (tsx cannot load .ts in workers on Node 20, so the worker is plain JS).
 *
 *   node --import tsx bench/webhook.ts        (env: BENCH_CONNECTIONS=32, BENCH_SECONDS=10,
 *                                              BENCH_SCENARIOS=repeat,new  BENCH_TARGETS=baseline,labwatch
 *                                              to run a part, e.g. under node --cpu-prof)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Fastify, { type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.ts';
import { Daemon } from '../src/daemon.ts';
import { createLogger } from '../src/telemetry/log.ts';
import { sharedFixture } from '../test/helpers/fixtures.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 1;
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PATH = '/webhook/alertmanager';
const BODY = readFileSync(sharedFixture('alertmanager', 'webhook-v4-firing-single-am0.21-raw-body.json'), 'utf8');
const TARGET_RATIO = { repeat: 0.5, 'new alerts': 0.35 } as const;
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'repeat,new').split(',');
const TARGETS = (process.env.BENCH_TARGETS ?? 'baseline,labwatch').split(',');

/** The part of autocannon's result the worker sends back. */
interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
}

/** Runs in the worker (CommonJS, eval'd). `fresh` rewrites each body into a distinct alert. */
const WORKER_JS = `
const { parentPort, workerData: w } = require('node:worker_threads');
const autocannon = require(w.autocannonPath);
const tpl = JSON.parse(w.body);
const groupKey = tpl.groupKey;
let n = 0;
const request = { method: 'POST', path: w.path, headers: { 'content-type': 'application/json' }, body: w.body };
if (w.fresh) request.setupRequest = (req) => {
  const id = w.salt + (n++).toString(16).padStart(8, '0');
  tpl.groupKey = groupKey + ':' + id;
  tpl.alerts[0].fingerprint = id;
  tpl.alerts[0].labels.instance = 'bench-' + id + ':9100';
  return { ...req, body: JSON.stringify(tpl) };
};
// In a worker thread autocannon returns raw histograms: aggregate the latencies as its main thread
// would; req/s average = completed requests / one-second samples (what autocannon averages).
const opts = { url: w.url, connections: w.connections, duration: w.seconds, requests: [request] };
autocannon(opts).then((raw) => {
  const r = autocannon.aggregateResult([raw], opts);
  parentPort.postMessage({ rps: raw.totalCompletedRequests / raw.samples, p50: r.latency.p50, p99: r.latency.p99,
    non2xx: raw.non2xx, errors: raw.errors, timeouts: raw.timeouts, total: raw.totalCompletedRequests });
});
`;

function load(url: string, fresh: boolean, seconds: number): Promise<RunResult> {
  const autocannonPath = createRequire(import.meta.url).resolve('autocannon');
  const salt = randomBytes(4).toString('hex'); // 8 hex + 8 hex counter = 16-hex fingerprints, unique per run
  const worker = new Worker(WORKER_JS, {
    eval: true,
    workerData: { autocannonPath, url, path: PATH, body: BODY, fresh, salt, connections: CONNECTIONS, seconds },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (r: RunResult) => resolve(r)); // the worker then exits by itself
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited (${code}) without a result`)));
  });
}

/** fastify with its default JSON parser (kept, so the raw body is at hand) and one Redis SET per request. */
async function startBaseline(prefix: string): Promise<{ url: string; stop(): Promise<void> }> {
  // Same connection settings as labwatch's store (auto-pipelining), so the ratio measures labwatch's logic.
  const redis = new Redis(REDIS_URL, { connectionName: 'lwbench-baseline', enableAutoPipelining: true });
  const app = Fastify({ logger: false });
  const defaultJson = app.getDefaultJsonParser('error', 'error'); // fastify's defaults
  const raw = new WeakMap<FastifyRequest, string>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    raw.set(req, body as string);
    (defaultJson as (r: FastifyRequest, b: string, d: typeof done) => void)(req, body as string, done);
  });
  app.post(PATH, async (req) => {
    await redis.set(`${prefix}:last`, raw.get(req) ?? '');
    return { status: 'ok' };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, stop: async () => void (await app.close(), await redis.quit()) };
}

async function startLabwatch(prefix: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-'));
  const file = join(dir, 'labwatch.yaml');
  writeFileSync(file, `redis:\n  url: "${REDIS_URL}"\n  prefix: ${prefix}\nhttp:\n  listen: "127.0.0.1:0"\nlog:\n  level: error\n`);
  const config = loadConfig(file, {});
  const daemon = new Daemon(config, createLogger({ level: 'error', destination: { write() {} } }));
  await daemon.start();
  return { url: daemon.address, stop: async () => void (await daemon.stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** CPU seconds (user + system) of this process's main thread: the servers under test; autocannon runs in its own thread. */
function mainThreadCpu(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/** CPU seconds Redis has used (INFO cpu), to see what a request costs it too. */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const labPrefix = `lwbench-${tag}`;
  const basePrefix = `lwbench-base-${tag}`;
  const admin = new Redis(REDIS_URL, { connectionName: 'lwbench-admin' });
  const targets: { name: string; url: string; stop(): Promise<void> }[] = [];
  let failed = false;
  try {
    // Baseline first in each scenario: labwatch's "new alerts" run leaves queued jobs behind.
    if (TARGETS.includes('baseline')) targets.push({ name: 'baseline', ...(await startBaseline(basePrefix)) });
    if (TARGETS.includes('labwatch')) targets.push({ name: 'labwatch', ...(await startLabwatch(labPrefix)) });

    console.log(`labwatch webhook benchmark  ${new Date().toISOString()}`);
    console.log(`node ${process.version}, ${cpus().length} CPUs, POST ${PATH}, ${CONNECTIONS} connections, ${SECONDS} s per run (+${WARMUP_SECONDS} s warm-up), redis ${REDIS_URL}`);
    console.log(`payload: ../shared/fixtures/alertmanager/webhook-v4-firing-single-am0.21-raw-body.json (${Buffer.byteLength(BODY)} bytes)\n`);
    console.log(`${'scenario'.padEnd(12)}${'target'.padEnd(10)}${pad('req/s', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('non-2xx', 9)}${pad('errors', 8)}${pad('requests', 10)}${pad('node µs/req', 13)}${pad('redis µs/req', 14)}`);

    const verdicts: string[] = [];
    const scenarios = ([['repeat', false], ['new alerts', true]] as const).filter(([s]) => SCENARIOS.includes(s.split(' ')[0]!));
    for (const [scenario, fresh] of scenarios) {
      const rps: Record<string, number> = {};
      for (const t of targets) {
        await load(t.url, fresh, WARMUP_SECONDS);
        const [cpu0, rcpu0] = [mainThreadCpu(), await redisCpu(admin)];
        const r = await load(t.url, fresh, SECONDS);
        const [cpu1, rcpu1] = [mainThreadCpu(), await redisCpu(admin)];
        const perReq = (sec: number) => pad(((sec * 1e6) / Math.max(1, r.total)).toFixed(0), 13);
        rps[t.name] = r.rps;
        const errors = r.timeouts ? `${r.errors}(${r.timeouts}t)` : String(r.errors);
        console.log(`${scenario.padEnd(12)}${t.name.padEnd(10)}${pad(r.rps.toFixed(1), 10)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.non2xx, 9)}${pad(errors, 8)}${pad(r.total, 10)}${perReq(cpu1 - cpu0)}${pad(perReq(rcpu1 - rcpu0).trim(), 14)}`);
      }
      if (targets.length < 2) continue;
      const ratio = (rps.labwatch ?? 0) / (rps.baseline || 1);
      const target = TARGET_RATIO[scenario];
      verdicts.push(`${scenario.padEnd(12)}labwatch/baseline = ${(ratio * 100).toFixed(1)} %  ${ratio >= target ? 'PASS' : 'BELOW TARGET'} (target >= ${target * 100} %)`);
    }
    console.log(`\n${verdicts.join('\n')}`);
  } catch (err) {
    failed = true;
    console.error(`benchmark failed: ${(err as Error).stack ?? err}`);
  } finally {
    for (const t of targets.reverse()) await t.stop().catch((e: Error) => console.error(`stopping ${t.name}: ${e.message}`));
    const deleted = (await deleteKeys(admin, `${labPrefix}:*`)) + (await deleteKeys(admin, `${basePrefix}:*`));
    console.log(`\ncleanup: deleted ${deleted} Redis keys under ${labPrefix}:* and ${basePrefix}:*`);
    await admin.quit();
  }
  process.exit(failed ? 1 : 0);
}

await main();
