/**
 * A Redis blip between a send and its record must not send the message twice: the mail server
 * and ntfy have accepted the message, then Redis dies before labwatch can write that down, and
 * comes back seconds later. The delivery ledger waits for it and records the send; the retry that
 * used to follow (and send again) never happens.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

let redis: PrivateRedis;
let lab: Lab;

before(async () => {
  redis = await new PrivateRedis().start();
  lab = await startLab({ redisUrl: redis.url });
});
after(async () => {
  await lab.stop();
  await redis.stop();
});

test('Redis killed after the mail server and ntfy accepted a message, restarted 4 s later: exactly one email and one ntfy message', async () => {
  // The first channel to deliver stops Redis before answering; the other answers once it is down.
  let stopping: Promise<void> | undefined;
  const stopRedis = () => (stopping ??= redis.stop());
  lab.smtp.beforeAnswer = stopRedis;
  lab.ntfy.beforeAnswer = stopRedis;

  assert.equal((await lab.post(FIRING_AM021)).status, 200);
  await waitFor('both channels to have the message', () => lab.smtp.messages.length >= 1 && lab.ntfy.published.length >= 1, 20_000);
  await stopping;
  lab.smtp.beforeAnswer = lab.ntfy.beforeAnswer = undefined;
  await new Promise((r) => setTimeout(r, 4000)); // the outage itself
  await redis.start();

  await waitFor('both deliveries recorded', async () => (await lab.keys('delivery:*')).length === 2, 30_000);
  await lab.drained(30_000);
  assert.equal(lab.smtp.messages.length, 1, 'one email');
  assert.equal(lab.ntfy.published.length, 1, 'one ntfy message');
  assert.deepEqual(await lab.keys('sending:*'), [], 'no send left uncertain');
  assert.ok(!lab.logs.some((l) => l.includes('job failed for good')), 'no job gave up');
});
