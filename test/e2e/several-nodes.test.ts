/**
 * Several labwatch processes on one Redis, each with its own role and host name, as a Proxmox
 * cluster runs them: a collector on each node reads its own pools (test/bin/zpool replays a real
 * DEGRADED pool through the real exec path; both nodes have a pool of the same name, as every
 * Proxmox node has an rpool), two workers triage and notify. Real `labwatch run` processes, a real
 * SMTP server on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { JobQueues } from '../../src/queue/index.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { TestSmtp } from '../helpers/smtp.ts';
import { drained, sleep, waitFor } from '../helpers/wait.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const PREFIX = `lwtest-nodes-${process.pid}`;

let smtp: TestSmtp;
let redis: Redis;
let queues: JobQueues;
const procs: Record<string, LabwatchProcess> = {};
/** one fake-zpool folder per collector process: its calls.log counts that process's runs */
const zpoolDirs: Record<string, string> = {};

function zpoolScenario(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-nodes-zpool-'));
  copyFileSync(fixturePath('zpool', 'status-degraded-unavail-was-path-cksum-errors.txt'), join(dir, 'status.txt'));
  copyFileSync(fixturePath('zpool', 'list-p-two-pools-degraded.txt'), join(dir, 'list.txt'));
  return dir;
}

const config = (opts: { role: string; host: string; zfs?: boolean }) => `
host: ${opts.host}
role: ${opts.role}
redis:
  url: "${TEST_REDIS_URL}"
  prefix: ${PREFIX}
http:
  listen: "127.0.0.1:0"
notify:
  email:
    host: 127.0.0.1
    port: ${smtp.port}
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]
  group_wait: 1s
  digest:
    schedule: "*/2 * * * * *"
    send_empty: true
watch:
  jitter: 0s
  smart: { enabled: false }
  host: { enabled: false }
  zfs: ${opts.zfs ? `{ zpool: ${join(BIN, 'zpool')}, schedule: "* * * * * *" }` : '{ enabled: false }'}
`;

async function start(name: string, opts: { role: string; host: string; zfs?: boolean }): Promise<void> {
  const env: Record<string, string> = {};
  if (opts.zfs) env.FAKE_ZPOOL_DIR = zpoolDirs[name] = zpoolScenario();
  procs[name] = await startLabwatch(config(opts), env);
}

/** How many runs of the zfs collector a process made: each run lists the pools once. */
const runsOf = (name: string) => {
  const log = join(zpoolDirs[name]!, 'calls.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('list')).length : 0;
};

const mails = () => smtp.messages.map((m) => ({ subject: m.parsed.subject ?? '', text: m.parsed.text ?? '' }));
const reports = () => mails().filter((m) => !/digest/i.test(m.subject));
const digests = () => mails().filter((m) => /digest/i.test(m.subject));

before(async () => {
  smtp = await new TestSmtp().start();
  redis = new Redis(TEST_REDIS_URL);
  queues = new JobQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX, attempts: 1, backoffMs: 1000 }, createLogger({ level: 'fatal' }));
  // Two collectors on node pve1 (say, one restarted beside the old one), one on pve2, two workers anywhere.
  await Promise.all([
    start('pve1', { role: 'collector', host: 'pve1', zfs: true }),
    start('pve1-again', { role: 'collector', host: 'pve1', zfs: true }),
    start('pve2', { role: 'collector', host: 'pve2', zfs: true }),
  ]);
  // The workers start once both nodes' pools are read, so their first digest has them to list
  // (a digest is one per minute: one sent before would leave the pools to the next minute's).
  await waitFor('both nodes\' pools in the overview', async () => (await redis.hkeys(`${PREFIX}:obs:latest`)).filter((k) => /^pool:mypool@pve[12]$/.test(k)).length === 2 || undefined, 20_000);
  await Promise.all([start('worker-a', { role: 'worker', host: 'box-a' }), start('worker-b', { role: 'worker', host: 'box-b' })]);
});

after(async () => {
  await Promise.all(Object.values(procs).map(async (p) => {
    p.child.kill('SIGKILL');
    await p.exited;
  }));
  await queues.stop(1000).catch(() => []);
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await smtp.stop();
  for (const dir of Object.values(zpoolDirs)) rmSync(dir, { recursive: true, force: true });
});

test('each node reports its own pool: the same pool name on two hosts is two incidents, each mailed once by the workers', async () => {
  await waitFor('a report for each node', () => reports().filter((m) => /mypool/.test(m.subject)).length >= 2 || undefined, 30_000);
  // Collectors keep reading every second; nothing new happens, so nothing more goes out.
  await waitFor('a few more collector runs', () => runsOf('pve2') >= 4 || undefined, 15_000);
  await drained({ daemon: { queues }, redis, prefix: PREFIX });
  const about = reports().filter((m) => /mypool/.test(m.subject));
  assert.equal(about.length, 2, `two reports, one per node: ${about.map((m) => m.subject).join(' | ')}`);
  assert.ok(about.some((m) => /pve1/.test(m.subject + m.text)), 'one names pve1');
  assert.ok(about.some((m) => /pve2/.test(m.subject + m.text)), 'one names pve2');
  const firing = await redis.smembers(`${PREFIX}:incidents:firing`);
  const hosts = await Promise.all(firing.map(async (id) => (JSON.parse((await redis.get(`${PREFIX}:incident:${id}`))!) as { groupKey: string }).groupKey));
  assert.deepEqual(hosts.filter((g) => /mypool/.test(g)).sort(), ['watch:pve1|pool:mypool', 'watch:pve2|pool:mypool']);
});

test('a collector never triages or sends; only the workers take jobs', async () => {
  for (const name of ['pve1', 'pve1-again', 'pve2']) {
    const lines = procs[name]!.lines();
    assert.equal(lines.find((l) => l.msg === 'labwatch is running')?.role, 'collector');
    assert.ok(!lines.some((l) => ['delivered', 'report ready', 'digest sent'].includes(l.msg)), `${name} made no report, delivery or digest`);
    assert.ok(lines.some((l) => l.msg === 'watching' && l.collector === 'zfs'), `${name} watches its pools`);
  }
  const workerLines = [...procs['worker-a']!.lines(), ...procs['worker-b']!.lines()];
  // the workers did the work the collectors did not
  assert.equal(workerLines.filter((l) => l.msg === 'report ready').length, 2, 'one report per incident, made by a worker');
  assert.ok(workerLines.some((l) => l.msg === 'delivered'));
  assert.ok(!workerLines.some((l) => l.msg === 'watching'), 'workers watch nothing');
});

test('each schedule runs once per host: two collectors on pve1 share its runs, pve2 runs its own', async () => {
  // Stop the pve1 pair, then compare the runs they made with the runs Redis handed out.
  for (const name of ['pve1', 'pve1-again']) {
    procs[name]!.child.kill('SIGTERM');
    await procs[name]!.exited;
  }
  const slots = (await redis.keys(`${PREFIX}:watch:run:watch:pve1:zfs:*`)).length;
  const made = runsOf('pve1') + runsOf('pve1-again');
  assert.ok(slots >= 3, `pve1 ran for several seconds (${slots} runs)`);
  // A run stopped between its election and its `zpool list` counts as taken but not made (one per process at most).
  assert.ok(made <= slots && made >= slots - 2, `pve1's runs (${runsOf('pve1')} + ${runsOf('pve1-again')}) are one per scheduled second (${slots}), not one per process`);
  assert.ok(runsOf('pve2') >= 3, 'pve2 ran its own schedule alongside');
});

test('two workers send one digest per period for the whole lab, listing both nodes\' pools', async () => {
  const first = await waitFor('a digest', () => digests()[0], 15_000);
  // The point of this wait: both workers' digest schedules fire twice more within the same period.
  await sleep(5_000);
  await drained({ daemon: { queues }, redis, prefix: PREFIX });
  const periods = (await redis.keys(`${PREFIX}:delivery:digest:*:email`)).length;
  assert.ok(periods >= 1);
  assert.equal(digests().length, periods, `one digest per period, not one per worker or per tick: ${digests().length} mails for ${periods} periods`);
  assert.match(first.text, /pool:mypool \(pve1\)/);
  assert.match(first.text, /pool:mypool \(pve2\)/);
});
