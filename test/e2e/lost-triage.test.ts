/**
 * A labwatch process killed in the middle of a triage (SIGKILL, a crash, power loss): another
 * process sharing its Redis takes the job over once the dead one's lock expires, and the report
 * goes out within about 15 s (LOCK_MS + STALLED_CHECK_MS), not the minute BullMQ's defaults took.
 * Two real `labwatch run` processes; the Claude API is scripted and hangs on the first process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { TestSmtp } from '../helpers/smtp.ts';
import { waitFor } from '../helpers/wait.ts';

const REPORT = {
  summary: 'Taken over after a crash: demo alert on ni3 investigated by the surviving process.',
  facts: [{ text: 'DemoAlert is firing on ni3', tool_call: 'incident' }],
  causes: [{ text: 'A demo alert', confidence: 'high' }],
  actions: [{ text: 'Nothing to do', urgency: 'when convenient' }],
  not_checked: [],
};

let redis: PrivateRedis;
let api: ScriptedAnthropic;
let smtp: TestSmtp;
const procs: LabwatchProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'labwatch-lost-'));

const yaml = () => `
redis:
  url: "${redis.url}"
  prefix: lwtest-lost
http:
  listen: "127.0.0.1:0"
notify:
  email:
    host: 127.0.0.1
    port: ${smtp.port}
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]
  group_wait: 0s
anthropic:
  api_key_file: ${join(dir, 'anthropic-key')}
  base_url: ${api.url}
log:
  level: debug
watch:
  smart: { enabled: false }
  zfs: { enabled: false }
  host: { enabled: false }
`;

before(async () => {
  writeFileSync(join(dir, 'anthropic-key'), 'lw-fake-anthropic-key-0123456789\n');
  redis = await new PrivateRedis().start();
  api = await new ScriptedAnthropic().start();
  smtp = await new TestSmtp().start();
});
after(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await smtp.stop();
  await api.stop();
  await redis.stop();
});

test('a process killed mid-triage: another one delivers the report within 20 s of the kill', { timeout: 60_000 }, async (t) => {
  // The first process asks Claude and never gets an answer; the second gets the report at once.
  api.script({ hang: true }, { toolUse: [{ name: 'submit_report', input: REPORT }] });
  const first = await startLabwatch(yaml());
  procs.push(first);
  const res = await fetch(`${first.url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
  assert.equal(res.status, 200);
  await waitFor('the first process to be triaging', () => api.requests.length === 1, 20_000);

  const second = await startLabwatch(yaml());
  procs.push(second);
  assert.equal(api.requests.length, 1, 'the job stays with the first process while it lives');
  first.child.kill('SIGKILL');
  const killed = Date.now();
  await first.exited;

  const mail = await waitFor('the report from the second process', () => smtp.messages[0], 25_000, 100);
  const took = Date.now() - killed;
  t.diagnostic(`report delivered ${took} ms after the kill`);
  assert.ok(took < 20_000, `delivered ${took} ms after the kill`);
  assert.match(mail.parsed.text ?? '', /Taken over after a crash/);
  assert.equal(api.requests.length, 2, 'the second process investigated again');
  assert.ok(second.lines().some((l) => l.msg === 'report ready'), 'the second process made the report');
  assert.equal(smtp.messages.length, 1);

  second.child.kill('SIGTERM');
  assert.equal((await second.exited).code, 0, second.stderr());
});
