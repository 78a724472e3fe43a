/**
 * A Redis outage, as the owner reads it in labwatch's log and metrics: one line when Redis goes,
 * one when it returns, for the whole process (not one per queue worker, connection or reconnect
 * attempt), and labwatch_redis_up 0 during the outage, 1 before and after. A real `labwatch run`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const OUTAGE_MS = 6_000;
let redis: PrivateRedis;
let run: LabwatchProcess;

before(async () => {
  redis = await new PrivateRedis().start();
  // Reminders and flapping checks are off: a periodic sweep that happens to fall inside the outage
  // logs its own failed run, which is not what this test counts.
  run = await startLabwatch(`
redis:
  url: "${redis.url}"
  prefix: lwtest-outage-log
http:
  listen: "127.0.0.1:0"
notify:
  repeat_interval: "off"
  flapping: { changes: 0 }
log:
  level: debug
watch:
  smart: { enabled: false }
  zfs: { enabled: false }
  host: { enabled: false }
`);
});
after(async () => {
  if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await redis.stop();
});

test('a Redis outage is logged once when it starts and once when it ends, and labwatch_redis_up follows it', { timeout: 60_000 }, async (t) => {
  const t0 = Date.now();
  await waitFor('labwatch_redis_up 1', async () => (await run.metric('labwatch_redis_up')) === 1);
  const from = run.lines().length;

  await redis.stop();
  const stoppedAt = Date.now();
  await waitFor('labwatch_redis_up 0 during the outage', async () => (await run.metric('labwatch_redis_up')) === 0);
  t.diagnostic(`up before after ${stoppedAt - t0} ms; labwatch_redis_up 0 ${Date.now() - stoppedAt} ms after Redis stopped`);
  // Three queue workers and their connections retry all through the outage: nothing more may be logged.
  await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
  const restart = Date.now();
  await redis.start();
  const back = Date.now();
  t.diagnostic(`redis-server restarted in ${back - restart} ms`);
  await waitFor('labwatch_redis_up 1 after the outage', async () => (await run.metric('labwatch_redis_up')) === 1, 15_000);
  t.diagnostic(`labwatch_redis_up 1 again ${Date.now() - back} ms after Redis restarted`);
  await run.line(/^Redis is back$/);

  const during = run.lines().slice(from);
  const text = during.map((l) => JSON.stringify(l)).join('\n');
  assert.equal(during.filter((l) => /^Redis unreachable/.test(l.msg)).length, 1, text);
  assert.equal(during.filter((l) => l.msg === 'Redis is back').length, 1, text);
  const loud = during.filter((l) => l.level >= 40); // warn and above
  assert.deepEqual(
    loud.map((l) => l.msg),
    ['Redis unreachable; webhooks answer 503 and jobs wait until it returns'],
    `only the outage line is a warning or an error:\n${text}`,
  );
  assert.ok(!during.some((l) => l.level >= 30 && /ECONNREFUSED/.test(JSON.stringify(l)) && !/^Redis unreachable/.test(l.msg)), text);

  const term = Date.now();
  run.child.kill('SIGTERM');
  const { code, at } = await run.exited;
  t.diagnostic(`exited ${at - term} ms after SIGTERM`);
  assert.equal(code, 0, run.stderr());
});
