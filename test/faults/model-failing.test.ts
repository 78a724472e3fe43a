/**
 * The model is failing while alerts come in, for a real `labwatch run`: the Anthropic API answers
 * 529 (overloaded) or 500, or takes the request and never answers. Every incident still gets a
 * report — the deterministic one, saying why the AI part failed — and it goes out within the
 * triage budget (anthropic.budget) plus the time to send, not after the SDK's retries of a hang.
 * The in-process agent tests (test/triage/agent.test.ts) check the wording; this checks the time
 * and the count on the real process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptedAnthropic, type Step } from '../helpers/anthropic.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { Channels, faultYaml, groupAlert, incidentIds, killAll, metricOf, postAlert, queuesOf } from './rig.ts';

const PREFIX = 'lwfault-model';
const BUDGET_MS = 3_000;
/** group_wait is 0: what follows the budget is rendering and sending one email, on a busy CI machine. */
const SEND_MARGIN_MS = 2_000;

let redis: PrivateRedis;
let api: ScriptedAnthropic;
let channels: Channels;
let lab: LabwatchProcess;
let view: ReturnType<typeof queuesOf>;
const procs: LabwatchProcess[] = [];
const took: string[] = [];

before(async () => {
  redis = await new PrivateRedis().start();
  api = await new ScriptedAnthropic().start();
  channels = await new Channels().start();
  const key = join(channels.dir, 'anthropic-key');
  writeFileSync(key, 'lw-fake-anthropic-key-0123456789\n', { mode: 0o600 });
  lab = await startLabwatch(
    faultYaml({
      redisUrl: redis.url,
      prefix: PREFIX,
      channels,
      notify: '  group_wait: 0s\n  group_interval: 1h\n  repeat_interval: "off"',
      extra: `anthropic:\n  api_key_file: ${key}\n  base_url: ${api.url}\n  budget: ${BUDGET_MS / 1000}s\nqueue: { attempts: 5, backoff: 200ms }`,
    }),
  );
  procs.push(lab);
  view = queuesOf(redis.url, PREFIX);
});
after(async () => {
  await killAll(procs);
  await view.close();
  await channels.stop();
  await api.stop();
  await redis.stop();
});

const cases: [string, Step[], RegExp][] = [
  ['overloaded (529 on every try)', [1, 2, 3].map(() => ({ status: 529, type: 'overloaded_error' })), /AI triage failed \(the Anthropic API answered 529 \(overloaded\) after retries\)/],
  // The API asks to wait longer than the budget: the budget ends the wait, and the report says what the API answered.
  ['rate limited (429, Retry-After 30 s)', [{ status: 429, type: 'rate_limit_error', retryAfter: 30 }], /AI triage failed \(the Anthropic API answered 429 \(rate limited\) and was still retrying when the budget ran out\)/],
  ['failing (500 on every try)', [1, 2, 3].map(() => ({ status: 500, type: 'api_error' })), /AI triage failed \(the Anthropic API answered 500[^)]*\)/],
  ['hanging (takes the request, never answers)', [1, 2, 3].map(() => ({ hang: true as const })), /AI triage failed \(the Anthropic API did not answer in time\)/],
];

for (const [i, [how, steps, why]] of cases.entries()) {
  test(`the model is ${how}: the deterministic report goes out within the ${BUDGET_MS / 1000} s budget, saying why`, { timeout: 40_000 }, async (t) => {
    api.script(...steps);
    const before = channels.smtp.messages.length;
    const sent = Date.now();
    assert.equal((await postAlert(lab.url, groupAlert(`model${i}`))).status, 200);
    const mail = await waitFor('the report by email', () => channels.smtp.messages[before], 30_000, 50);
    const ms = Date.now() - sent;
    took.push(`${how.split(' ')[0]} ${ms} ms (${api.requests.length} API requests)`);
    t.diagnostic(`report ${ms} ms after the alert; the API was asked ${api.requests.length} times`);
    const text = mail.parsed.text ?? '';
    assert.match(text, why);
    assert.match(text, /deterministic report|built from the alert/);
    assert.match(text, /NFS mount stale on model\d/);
    assert.ok(ms <= BUDGET_MS + SEND_MARGIN_MS, `the report came ${ms} ms after the alert; the budget is ${BUDGET_MS} ms`);
  });
}

test('every incident got its report on every channel, once, and the fallbacks are counted', async (t) => {
  await view.drained(20_000);
  const ids = await incidentIds(view.redis, PREFIX);
  assert.equal(ids.length, cases.length);
  assert.deepEqual(channels.notOnce(ids), []);
  assert.equal(await metricOf(lab.url, 'labwatch_triage_outcome_total{outcome="fallback"}'), cases.length);
  assert.equal((await metricOf(lab.url, 'labwatch_triage_outcome_total{outcome="ai"}')) ?? 0, 0);
  const warned = lab.lines().filter((l) => l.msg === 'AI triage failed; sending the deterministic report');
  assert.equal(warned.length, cases.length, 'each fallback logged with its reason');
  t.diagnostic(`budget ${BUDGET_MS} ms: ${took.join('; ')}`);
});
