/**
 * Benchmark: the dashboard's page weight and how soon a person sees the incidents, against a
 * baseline measured in the same run.
 *
 * labwatch: the real daemon (real Redis, an open dashboard on loopback, one incident from the real
 * Alertmanager payload) serving the build in dist/web. Baseline: a bare static HTML page with the
 * same text as the list (title, cause, host, age), served by fastify with the same br compression,
 * no script, no API call: the floor for "a page that shows this list".
 * Weight: the bytes on the wire of the page and every asset it loads, asked for with
 * `Accept-Encoding: br` (as browsers do over http on loopback: gzip, deflate, br; labwatch picks br).
 * Times: Debian's chromium (headless, playwright-core), each load in a fresh context (cold cache):
 * first-contentful-paint, and the moment the first incident row is in the page (polled each frame).
 * Runs alternate between the targets after a warm-up so a change in the machine's load hits both.
 * Goals (issue #16): < 150 KB compressed; the list shown (interactive) in < 300 ms on loopback.
 *
 *   npm run bench:dashboard                      (builds first)
 *   node --import tsx bench/dashboard.ts         (env: BENCH_RUNS=15, LABWATCH_TEST_REDIS_URL)
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { sourceTimes } from '../bin/built.js';
import { loadConfig } from '../src/config/load.ts';
import { Daemon } from '../src/daemon.ts';
import { createLogger } from '../src/telemetry/log.ts';
import { browserMissing, launchBrowser } from '../test/helpers/browser.ts';
import { FIRING_AM021 } from '../test/helpers/payloads.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WEIGHT_GOAL = 150 * 1024;
const SHOWN_GOAL_MS = 300;

/** Records performance.now() when `ul.incidents li` first exists (a MutationObserver: no polling delay). */
const SHOWN_PROBE = `
  new MutationObserver((_, o) => {
    if (document.querySelector('ul.incidents li')) { window.__shown = performance.now(); o.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
`;

interface Target {
  name: string;
  url: string;
  stop(): Promise<void>;
}

/** Bytes as they cross the wire (no decoding), with the status and the headers. */
function fetchRaw(url: string): Promise<{ status: number; bytes: number; body: Buffer; encoding: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bytes: body.length, body, encoding: String(res.headers['content-encoding'] ?? 'identity') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The page and every asset its HTML names (labwatch's index is served br-compressed: decoded to
 * read the names), plus `more` (assets loaded later, e.g. the chart library with the drives view).
 */
async function pageWeight(url: string, more: string[] = []): Promise<{ bytes: number; first: number; requests: number; files: string[] }> {
  const index = await fetchRaw(`${url}/`);
  if (index.status !== 200) throw new Error(`GET ${url}/ answered ${index.status}: ${index.body.toString().slice(0, 200)}`);
  const html = (index.encoding === 'br' ? brotliDecompressSync(index.body) : index.body).toString();
  const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
  let bytes = index.bytes;
  let first = 0;
  const files = [`index.html ${index.bytes} B (${index.encoding})`];
  const later = more.filter((m) => !assets.includes(m));
  for (const a of [...assets, ...later]) {
    const r = await fetchRaw(`${url}/${a}`);
    if (r.status !== 200) throw new Error(`GET ${url}/${a} answered ${r.status}`);
    bytes += r.bytes;
    files.push(`${a} ${r.bytes} B (${r.encoding})${later.includes(a) ? ', loaded by the views with charts' : ''}`);
    if (a === assets[assets.length - 1]) first = bytes;
  }
  return { bytes, first: assets.length ? first : bytes, requests: 1 + assets.length, files };
}

async function startLabwatch(prefix: string, dir: string): Promise<Target> {
  const file = join(dir, 'labwatch.yaml');
  writeFileSync(file, `redis:\n  url: "${REDIS_URL}"\n  prefix: ${prefix}\nhttp:\n  listen: "127.0.0.1:0"\nlog:\n  level: error\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n`);
  const daemon = new Daemon(loadConfig(file, {}), createLogger({ level: 'error', destination: { write() {} } }));
  await daemon.start();
  const res = await fetch(`${daemon.address}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
  if (!res.ok) throw new Error(`seeding the incident: POST /webhook/alertmanager answered ${res.status}: ${await res.text()}`);
  return { name: 'labwatch', url: daemon.address, stop: () => daemon.stop() };
}

/** The list as static HTML: the text a person reads on labwatch's page, without script or API. */
async function startBaseline(): Promise<Target> {
  const page =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>labwatch</title>' +
    '<style>body{font:15px/1.45 system-ui,sans-serif;margin:0}main{max-width:1100px;margin:0 auto;padding:12px}li{border:1px solid #ccc;border-radius:8px;padding:10px;margin:8px 0;list-style:none}</style></head>' +
    '<body><header><a href="#">labwatch</a> <nav>Incidents Drives Pools Lab Ask Status</nav></header><main><h1>Incidents</h1>' +
    '<ul class="incidents"><li><span>critical</span> <a href="#">This is a demo</a><div>ni3 · started 5.9 years ago</div></li></ul></main></body></html>';
  const br = brotliCompressSync(page);
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('Content-Encoding', 'br').header('Cache-Control', 'no-cache').send(br));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { name: 'baseline', url, stop: () => app.close() };
}

/** Whether dist/web is the page as src/web/ is now (dist/.built records each source's mtime): null, or what is wrong. */
function staleWeb(): string | null {
  let built: Record<string, number>;
  try {
    built = (JSON.parse(readFileSync(new URL('../dist/.built', import.meta.url), 'utf8')) as { sources: Record<string, number> }).sources;
  } catch {
    return 'missing';
  }
  const now = sourceTimes();
  const web = (p: string) => p.startsWith('src/web/');
  const changed = Object.keys(now).find((p) => web(p) && built[p] !== now[p]) ?? Object.keys(built).find((p) => web(p) && !(p in now));
  return changed ? `older than ${changed}` : null;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const pad = (s: string | number, n: number) => String(s).padStart(n);

async function main(): Promise<void> {
  const missing = browserMissing();
  if (missing) throw new Error(missing);
  const stale = staleWeb();
  if (stale) throw new Error(`dist/web is ${stale}: run npm run build (npm run bench:dashboard does)`);
  const prefix = `lwbench-dash-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-dashboard-'));
  const admin = new Redis(REDIS_URL, { connectionName: 'lwbench-admin' });
  const targets: Target[] = [];
  const browser = await launchBrowser();
  let failed = false;
  try {
    targets.push(await startBaseline(), await startLabwatch(prefix, dir));
    console.log(`labwatch dashboard benchmark  ${new Date().toISOString()}`);
    console.log(`node ${process.version}, ${cpus().length} CPUs (load ${loadavg().map((l) => l.toFixed(1)).join(' ')}), chromium ${browser.browser.version()} headless, ${RUNS} cold loads per target (+1 warm-up), redis ${REDIS_URL}\n`);

    const weights = new Map<string, Awaited<ReturnType<typeof pageWeight>>>();
    // Every asset of the build counts for labwatch, also those loaded later: the weight of the whole dashboard.
    const built = readdirSync(new URL('../dist/web/assets/', import.meta.url)).filter((f) => /\.(js|css)$/.test(f)).map((f) => `assets/${f}`);
    for (const t of targets) weights.set(t.name, await pageWeight(t.url, t.name === 'labwatch' ? built : []));
    for (const f of weights.get('labwatch')!.files) console.log(`  labwatch ${f}`);
    console.log('');

    const samples = new Map(targets.map((t) => [t.name, { fcp: [] as number[], shown: [] as number[] }]));
    for (let run = -1; run < RUNS; run++)
      for (const t of targets) {
        const context = await browser.context({ width: 1280, height: 900 });
        const page = await context.newPage();
        // Runs before the page's own scripts (through DevTools, so the page's CSP does not apply):
        // notes when the first incident row enters the document, in the page's own clock.
        await page.addInitScript(SHOWN_PROBE);
        await page.goto(`${t.url}/`);
        const shownMs = (await (await page.waitForFunction(() => (globalThis as { __shown?: number }).__shown, null, { timeout: 10_000 })).jsonValue()) as number;
        // The list can exist before the first paint (the baseline's is in its HTML): wait for the paint too.
        const fcp = (await (await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime, null, { timeout: 10_000 })).jsonValue()) as number;
        await context.close();
        if (run < 0) continue;
        samples.get(t.name)!.fcp.push(fcp);
        samples.get(t.name)!.shown.push(shownMs);
      }

    console.log(`${'target'.padEnd(10)}${pad('KB (br)', 9)}${pad('first', 7)}${pad('requests', 10)}${pad('FCP p50', 9)}${pad('FCP p95', 9)}${pad('list p50', 10)}${pad('list p95', 10)}   ms`);
    for (const t of targets) {
      const w = weights.get(t.name)!;
      const s = samples.get(t.name)!;
      const f = (x: number) => x.toFixed(0);
      console.log(`${t.name.padEnd(10)}${pad((w.bytes / 1024).toFixed(1), 9)}${pad((w.first / 1024).toFixed(1), 7)}${pad(w.requests, 10)}${pad(f(pct(s.fcp, 50)), 9)}${pad(f(pct(s.fcp, 95)), 9)}${pad(f(pct(s.shown, 50)), 10)}${pad(f(pct(s.shown, 95)), 10)}`);
    }
    const lw = weights.get('labwatch')!.bytes;
    const shown = pct(samples.get('labwatch')!.shown, 95);
    const base = pct(samples.get('baseline')!.shown, 50);
    console.log(`\n"KB (br)": the whole dashboard (every asset); "first": what the first screen loads; requests: of the first screen`);
    console.log(`weight      ${(lw / 1024).toFixed(1)} KB compressed  ${lw < WEIGHT_GOAL ? 'PASS' : 'ABOVE GOAL'} (goal < ${WEIGHT_GOAL / 1024} KB)`);
    console.log(`list shown  p95 ${shown.toFixed(0)} ms (baseline p50 ${base.toFixed(0)} ms, +${(pct(samples.get('labwatch')!.shown, 50) - base).toFixed(0)} ms at p50)  ${shown < SHOWN_GOAL_MS ? 'PASS' : 'ABOVE GOAL'} (goal < ${SHOWN_GOAL_MS} ms)`);
  } catch (err) {
    failed = true;
    console.error(`benchmark failed: ${(err as Error).stack ?? err}`);
  } finally {
    await browser.close();
    for (const t of targets.reverse()) await t.stop().catch((e: Error) => console.error(`stopping ${t.name}: ${e.message}`));
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await admin.del(...keys);
    } while (cursor !== '0');
    console.log(`\ncleanup: deleted ${deleted} Redis keys under ${prefix}:*`);
    await admin.quit();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

await main();
