/**
 * Benchmark: what an idle labwatch costs the machine it watches, against the floor for "a Node
 * process connected to Redis", measured side by side over the same minutes.
 *
 * labwatch: the compiled daemon (`node bin/labwatch.js run`, after `npm run build`) with the
 * default schedules (the host collector every minute, the smart and zfs collectors on theirs, the
 * digest, reminders, the outbox sweep), no channel, no model, on a private redis-server so that
 * every client connection in CLIENT LIST is its. Where smartctl or zpool are not installed their
 * collectors run and find nothing (said in the output). Baseline: a bare Node process holding the
 * same number of idle Redis connections (ioredis), doing nothing else.
 *
 * Every BENCH_IDLE_EVERY seconds (5) both processes' RSS (/proc/<pid>/status VmRSS) and CPU time
 * (/proc/<pid>/stat utime + stime) are read; after BENCH_IDLE_MINUTES (10) it prints peak and mean
 * RSS, CPU seconds, and labwatch's ratio to the baseline (goal: RSS at most 1.5x).
 *
 *   npm run build && node --import tsx bench/idle.ts   (env: BENCH_IDLE_MINUTES=1 for a quick run)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { startLabwatch } from '../test/helpers/process.ts';
import { PrivateRedis } from '../test/helpers/redis-server.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { buildState } from '../bin/built.js';

const MINUTES = Number(process.env.BENCH_IDLE_MINUTES ?? 10);
const EVERY_S = Number(process.env.BENCH_IDLE_EVERY ?? 5);
const TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface Sample {
  rssMb: number;
  cpuS: number;
}

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024, cpuS: (Number(f[11]) + Number(f[12])) / TICKS_PER_S };
}

/** The baseline: `n` ioredis connections, named like labwatch's, held open and idle. */
async function startBaseline(url: string, n: number): Promise<ChildProcess> {
  const code = `
    import { Redis } from 'ioredis';
    const clients = Array.from({ length: ${n} }, () => new Redis(${JSON.stringify(url)}, { connectionName: 'lwbench-idle-baseline' }));
    await Promise.all(clients.map((c) => c.ping()));
    console.log('ready');
    process.on('SIGTERM', async () => { await Promise.all(clients.map((c) => c.quit())); process.exit(0); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`baseline process exited (${c})`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Client connections by name, from CLIENT LIST, leaving out the benchmark's own. */
async function connections(admin: Redis): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const line of String(await admin.client('LIST')).split('\n')) {
    const name = /\bname=(\S*)/.exec(line)?.[1];
    if (name === undefined || name === 'lwbench-idle-admin') continue;
    byName.set(name || '(unnamed)', (byName.get(name || '(unnamed)') ?? 0) + 1);
  }
  return byName;
}

const which = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pad = (s: string | number, n: number) => String(s).padStart(n);

async function main(): Promise<void> {
  const build = buildState();
  if (!build.fresh) console.log('note: dist/ is stale, so labwatch runs its sources through tsx (more memory): run `npm run build` first');
  const redis = await new PrivateRedis().start();
  const admin = new Redis(redis.url, { connectionName: 'lwbench-idle-admin' });
  const children: ChildProcess[] = [];
  try {
    const lab = await startLabwatch(`
redis:
  url: "${redis.url}"
  prefix: lwidle
http:
  listen: "127.0.0.1:0"
log:
  level: info
`);
    children.push(lab.child);
    // Its connections open as its parts start (workers, the ledger on first use): count once settled.
    let names = new Map<string, number>();
    await waitFor('labwatch\'s Redis connections to settle', async () => {
      const now = await connections(admin);
      const same = [...now].every(([k, v]) => names.get(k) === v) && now.size === names.size;
      names = now;
      return same && now.size > 0;
    }, 20_000, 1000);
    const n = [...names.values()].reduce((a, b) => a + b, 0);
    const base = await startBaseline(redis.url, n);
    children.push(base);

    console.log(`labwatch idle benchmark  ${new Date().toISOString()}`);
    console.log(`node ${process.version}, ${cpus().length} CPUs, ${MINUTES} min, a sample every ${EVERY_S} s; labwatch from ${build.fresh ? 'the build (dist/)' : 'the sources (tsx)'}`);
    console.log(`labwatch's Redis connections: ${n} (${[...names].map(([k, v]) => `${k} ×${v}`).join(', ')}); the baseline holds as many`);
    console.log(`default schedules; smartctl ${which('smartctl') ? 'installed' : 'absent'}, zpool ${which('zpool') ? 'installed' : 'absent'} (an absent tool's collector finds nothing)\n`);

    const samples: Record<'labwatch' | 'baseline', Sample[]> = { labwatch: [], baseline: [] };
    const pids = { labwatch: lab.child.pid!, baseline: base.pid! };
    const start = { labwatch: sample(pids.labwatch), baseline: sample(pids.baseline) };
    const end = Date.now() + MINUTES * 60_000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, EVERY_S * 1000));
      for (const t of ['labwatch', 'baseline'] as const) samples[t].push(sample(pids[t]));
    }
    console.log(`${'target'.padEnd(10)}${pad('peak RSS MB', 12)}${pad('mean RSS MB', 12)}${pad('CPU s', 8)}${pad('CPU %', 7)}`);
    const row = (t: 'labwatch' | 'baseline') => {
      const s = samples[t];
      const cpu = s[s.length - 1]!.cpuS - start[t].cpuS;
      return { peak: Math.max(...s.map((x) => x.rssMb)), mean: mean(s.map((x) => x.rssMb)), cpu };
    };
    const r = { labwatch: row('labwatch'), baseline: row('baseline') };
    for (const t of ['baseline', 'labwatch'] as const)
      console.log(`${t.padEnd(10)}${pad(r[t].peak.toFixed(1), 12)}${pad(r[t].mean.toFixed(1), 12)}${pad(r[t].cpu.toFixed(2), 8)}${pad(((r[t].cpu / (MINUTES * 60)) * 100).toFixed(2), 7)}`);
    const ratio = r.labwatch.mean / r.baseline.mean;
    console.log(`\nlabwatch/baseline: RSS ${ratio.toFixed(2)}x mean, ${(r.labwatch.peak / r.baseline.peak).toFixed(2)}x peak  ${ratio <= 1.5 ? 'PASS' : 'ABOVE GOAL'} (goal <= 1.5x); CPU ${(r.labwatch.cpu / Math.max(0.01, r.baseline.cpu)).toFixed(1)}x`);
  } finally {
    for (const c of children.reverse()) await stop(c);
    await admin.quit();
    await redis.stop();
  }
}

await main();
