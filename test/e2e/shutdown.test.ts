/**
 * labwatch stopped by SIGTERM, as systemd stops it: with everything up it exits 0 after "stopped";
 * with Redis gone (and the mail server, and a triage stuck on the Claude API) it still exits within
 * queue.shutdown_timeout plus a few seconds, naming what it had to leave behind, instead of hanging
 * until a second signal. Past a hard deadline, stop() gives up and names what is still open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { startLab } from '../helpers/lab.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLabwatch } from '../helpers/process.ts';
import { PrivateRedis, freePort } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const SHUTDOWN_TIMEOUT_MS = 2_000;

let redis: PrivateRedis;
let api: ScriptedAnthropic;
let deadSmtpPort: number;
const keyFile = join(mkdtempSync(join(tmpdir(), 'labwatch-shutdown-')), 'anthropic-key');

const yaml = (prefix: string) => `
redis:
  url: "${redis.url}"
  prefix: ${prefix}
http:
  listen: "127.0.0.1:0"
notify:
  email:
    host: 127.0.0.1
    port: ${deadSmtpPort}
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]
  group_wait: 0s
anthropic:
  api_key_file: ${keyFile}
  base_url: ${api.url}
  budget: 60s
queue:
  shutdown_timeout: ${SHUTDOWN_TIMEOUT_MS / 1000}s
log:
  level: debug
watch:
  smart: { enabled: false }
  zfs: { enabled: false }
  host: { enabled: false }
`;

before(async () => {
  writeFileSync(keyFile, 'lw-fake-anthropic-key-0123456789\n');
  redis = await new PrivateRedis().start();
  api = await new ScriptedAnthropic().start();
  deadSmtpPort = await freePort(); // nothing listens there: the mail server is down too
});
after(async () => {
  await api.stop();
  await redis.stop();
});

test('SIGTERM with Redis up: labwatch exits 0 after "stopped", leaving nothing behind', { timeout: 40_000 }, async (t) => {
  const run = await startLabwatch(yaml('lwtest-shutdown-up'));
  const sent = Date.now();
  run.child.kill('SIGTERM');
  const { code, at } = await run.exited;
  t.diagnostic(`exited ${at - sent} ms after SIGTERM`);
  assert.equal(code, 0, run.stderr());
  const stopped = run.lines().find((l) => l.msg === 'stopped');
  assert.ok(stopped, run.stderr());
  assert.equal(stopped.notClosed, undefined, 'everything closed by itself');
  assert.ok(at - sent < 3_000, `took ${at - sent} ms`);
});

test('SIGTERM while Redis is down and a triage is stuck: exits within shutdown_timeout + 5 s and says what it left behind', { timeout: 60_000 }, async (t) => {
  api.script({ hang: true }); // the triage waits on the Claude API and never gets an answer
  const run = await startLabwatch(yaml('lwtest-shutdown-down'));
  const res = await fetch(`${run.url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
  assert.equal(res.status, 200);
  await waitFor('the triage to ask Claude', () => api.requests.length === 1, 20_000);
  await redis.stop();
  await run.line(/^Redis unreachable/);

  const sent = Date.now();
  run.child.kill('SIGTERM');
  const killer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  const { code, at } = await run.exited;
  clearTimeout(killer);
  await redis.start();
  const took = at - sent;
  t.diagnostic(`exited ${took} ms after SIGTERM with code ${code}`);
  const log = run.lines();
  const text = log.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(took < SHUTDOWN_TIMEOUT_MS + 5_000, `exited ${took} ms after SIGTERM (shutdown_timeout ${SHUTDOWN_TIMEOUT_MS} ms):\n${text}`);
  assert.equal(code, 0, text);
  assert.ok(log.some((l) => l.msg.startsWith('jobs still running at shutdown')), text);
  const cutting = log.find((l) => /^queue workers did not close \(Redis is unreachable\); cutting their connections$/.test(l.msg));
  assert.ok(cutting, text);
  const stopped = log.find((l) => l.msg === 'stopped');
  assert.ok(stopped, text);
  assert.ok(Array.isArray(stopped.notClosed) && stopped.notClosed.includes('triage worker'), text);
});

test('a part that never finishes stopping: stop() gives up at shutdown_timeout + 5 s, naming it', { timeout: 30_000 }, async () => {
  const lab = await startLab(); // shutdown_timeout 5s
  const { queues } = lab.daemon;
  const realStop = queues.stop.bind(queues);
  queues.stop = (ms: number) => {
    void realStop(ms);
    return new Promise<string[]>(() => {}); // as if closing the queues hung
  };
  const started = Date.now();
  await assert.rejects(lab.daemon.stop(), /shutdown did not finish within 10000 ms \(queues still open\)/);
  const took = Date.now() - started;
  assert.ok(took >= 10_000 && took < 11_000, `gave up after ${took} ms`);
  const line = lab.logs.map((l) => JSON.parse(l) as { msg: string; open?: string[] }).find((l) => l.msg.startsWith('shutdown did not finish'));
  assert.deepEqual(line?.open, ['queues']);
  queues.stop = realStop;
  await lab.stop();
});
