/**
 * Benchmark: how fast the CLI starts, against a bare `node -e 0` measured in the same run.
 *
 * Each command runs as a user runs it (`node bin/labwatch.js …`), once from the build (dist/, while
 * it is up to date) and once from the sources through tsx (LABWATCH_FROM_SOURCES=1): `version`,
 * `--help`, `tools list` and `mcp`, the last timed from spawn to its answer to an MCP `initialize`
 * (what Claude Desktop and the Inspector wait for). Runs are interleaved, after one warm-up round,
 * so a change in the machine's load hits every row alike. CPU is user + sys of the whole process
 * (for `mcp`, until it exits once its stdin is closed), from /usr/bin/time.
 * Goals (issue #12): `labwatch version` within 2× a bare node start; `mcp` answers in < 1 s.
 *
 *   npm run bench:startup                      (builds first)
 *   node --import tsx bench/startup.ts         (env: BENCH_RUNS=20, LABWATCH_TEST_REDIS_URL)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The launcher's own test, so that "build" rows are what bin/labwatch.js runs.
import { buildState } from '../bin/built.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = fileURLToPath(new URL('../bin/labwatch.js', import.meta.url));
const TIME = '/usr/bin/time';
const VERSION_TARGET = 2;
const MCP_TARGET_MS = 1000;
const RUN_TIMEOUT_MS = 60_000;

const INITIALIZE =
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-startup', version: '1' } } }) + '\n';

interface Sample {
  wallMs: number;
  cpuMs: number | undefined;
}

interface Target {
  command: string;
  from: 'node' | 'build' | 'sources';
  args: string[];
  /** `mcp`: the time that counts ends at the answer to initialize, not at exit */
  mcp?: boolean;
  samples: Sample[];
}


const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-startup-'));
const config = join(dir, 'labwatch.yaml');
// The defaults plus a private prefix and a writable audit file: what a first `labwatch mcp` reads.
writeFileSync(config, `redis:\n  url: "${REDIS_URL}"\n  prefix: lwbench-startup-${randomBytes(3).toString('hex')}\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n`);
const withTime = existsSync(TIME);

function answersInitialize(stdout: string): boolean {
  try {
    const answer = JSON.parse(stdout.split('\n')[0]!) as { id?: unknown; result?: unknown };
    return answer.id === 1 && typeof answer.result === 'object';
  } catch {
    return false;
  }
}

/** One run: spawn, (for mcp: send initialize and wait for its answer), wait for the exit. */
function once(t: Target, n: number): Promise<Sample> {
  const cpuFile = join(dir, `cpu-${n}`);
  const argv = [process.execPath, ...t.args];
  const [cmd, ...args] = withTime ? [TIME, '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  if (t.from === 'sources') env.LABWATCH_FROM_SOURCES = '1';
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answeredAt: bigint | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (t.mcp && answeredAt === undefined && stdout.includes('\n')) {
        answeredAt = process.hrtime.bigint();
        child.stdin.end();
      }
    });
    if (t.mcp) child.stdin.write(INITIALIZE);
    else child.stdin.end();
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const end = answeredAt ?? process.hrtime.bigint();
      if (code !== 0 || (t.mcp && !answersInitialize(stdout))) {
        reject(new Error(`${t.command} (${t.from}) exited ${code ?? signal}\nstdout: ${stdout.slice(0, 2000)}\nstderr: ${stderr.slice(0, 2000)}`));
        return;
      }
      let cpuMs: number | undefined;
      if (withTime) {
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
        cpuMs = ((user ?? NaN) + (sys ?? NaN)) * 1000;
      }
      resolve({ wallMs: Number(end - t0) / 1e6, cpuMs });
    });
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

const commands: [string, string[], boolean?][] = [
  ['labwatch version', ['version']],
  ['labwatch --help', ['--help']],
  ['labwatch tools list', ['tools', 'list', '--config', config]],
  ['labwatch mcp (initialize)', ['mcp', '--config', config], true],
];
const before = buildState();
const froms: ('build' | 'sources')[] = before.fresh ? ['build', 'sources'] : ['sources'];
const targets: Target[] = [{ command: 'node -e 0', from: 'node', args: ['-e', '0'], samples: [] }];
for (const [command, args, mcp] of commands)
  for (const from of froms) targets.push({ command, from, args: [BIN, ...args], mcp: mcp ?? false, samples: [] });

const load0 = loadavg();
process.stderr.write(`startup bench: ${RUNS} runs of ${targets.length} targets after a warm-up round${before.fresh ? '' : ' (no up-to-date build: sources only)'}\n`);
let n = 0;
try {
  for (let round = 0; round <= RUNS; round++)
    for (const t of targets) {
      const s = await once(t, n++);
      if (round > 0) t.samples.push(s);
    }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const load1 = loadavg();
const after = buildState();
if (before.fresh && !after.fresh) {
  process.stderr.write(`startup bench: ${('changed' in after && after.changed) || 'dist/'} changed during the run, so some "build" runs took the sources: run it again\n`);
  process.exit(1);
}

const median = (t: Target) => quantile(t.samples.map((s) => s.wallMs), 0.5);
// The mean: /usr/bin/time counts CPU in 10 ms steps, too coarse for a median of 40 ms processes.
const cpu = (t: Target) => (withTime ? t.samples.reduce((sum, s) => sum + s.cpuMs!, 0) / t.samples.length : NaN);
const base = targets[0]!;
const fmt = (x: number, d = 0) => (Number.isNaN(x) ? '-' : x.toFixed(d));

process.stdout.write(
  `Node ${process.version}, ${cpus().length} CPUs, load average ${load0[0]!.toFixed(2)} → ${load1[0]!.toFixed(2)}, ${RUNS} runs each\n\n`,
);
const header = ['command', 'from', 'median ms', 'p90 ms', 'CPU ms (mean)', '× node (wall)', '× node (CPU)'];
const rows = targets.map((t) => [
  t.command,
  t.from === 'node' ? '-' : t.from,
  fmt(median(t)),
  fmt(quantile(t.samples.map((s) => s.wallMs), 0.9)),
  fmt(cpu(t)),
  fmt(median(t) / median(base), 1),
  fmt(cpu(t) / cpu(base), 1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ') + '\n');

const pick = (command: string, from: string) => targets.find((t) => t.command === command && t.from === from);
const version = pick('labwatch version', 'build');
const mcp = pick('labwatch mcp (initialize)', 'build');
process.stdout.write('\n');
if (version && mcp) {
  const ratio = median(version) / median(base);
  process.stdout.write(`labwatch version (build) = ${ratio.toFixed(2)}× node -e 0  ${ratio <= VERSION_TARGET ? 'PASS' : 'BELOW TARGET'} (target <= ${VERSION_TARGET}×)\n`);
  process.stdout.write(`labwatch mcp answers initialize (build) in ${median(mcp).toFixed(0)} ms  ${median(mcp) < MCP_TARGET_MS ? 'PASS' : 'BELOW TARGET'} (target < ${MCP_TARGET_MS} ms)\n`);
} else {
  process.stdout.write('no up-to-date build, so no build rows: npm run build (npm run bench:startup builds first)\n');
}
