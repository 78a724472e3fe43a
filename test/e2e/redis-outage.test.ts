/**
 * Redis goes away and comes back: webhooks answer 503 (so Alertmanager retries) while it is
 * gone, nothing already stored is lost, and delivery works again once it returns.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021, resolvedOf } from '../helpers/payloads.ts';
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

test('while Redis is down webhooks get 503 with Retry-After; after it returns, the resolution is delivered in the same thread', async () => {
  assert.equal((await lab.post(FIRING_AM021)).status, 200);
  await waitFor('the firing email', () => lab.smtp.messages[0]);
  await lab.drained();

  await redis.stop();
  const res = await fetch(`${lab.url}/webhook/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${lab.config.secrets.httpToken}` },
    body: resolvedOf(FIRING_AM021),
  });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '10');
  assert.match(((await res.json()) as { error: string }).error, /Redis unavailable/);
  const ready = await fetch(`${lab.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.ok(lab.logs.some((l) => l.includes('answering 503 so the sender retries')));

  await redis.start();
  await waitFor('readiness after Redis returns', async () => (await fetch(`${lab.url}/readyz`)).status === 200, 15_000);
  // Alertmanager re-sends the resolution; this time it is stored.
  assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
  const notice = await waitFor('the resolution email', () => lab.smtp.messages[1], 20_000);
  await lab.drained();
  assert.equal(lab.smtp.messages.length, 2, 'one firing mail and one resolution, nothing twice');
  assert.equal(notice.parsed.subject, '[RESOLVED] ni3: This is a demo');
  assert.equal(notice.parsed.inReplyTo, lab.smtp.messages[0]!.parsed.messageId, 'the incident survived the restart');
  assert.equal(lab.ntfy.published.length, 2);
});
