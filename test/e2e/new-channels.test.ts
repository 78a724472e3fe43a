/**
 * Gotify, Apprise and a webhook end to end, configured as a user would (each its notify: block),
 * with nothing else: real Redis and BullMQ, loopback servers answering as each project documents.
 * The pipeline around them (routing, retries, the ledger, the digest) is the one email and ntfy
 * use; these tests show it applies to a channel that is only its folder and one list line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRING_AM021, MIXED_AM09, resolvedOf, stormAlert, stormBody } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { testApprise, testGotify, testWebhook, type Receiver } from '../helpers/channels.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const TOKEN = 'AWH0wZ5r0Mbac.r';
const dir = mkdtempSync(join(tmpdir(), 'labwatch-new-channels-'));
const tokenFile = join(dir, 'gotify-token');
writeFileSync(tokenFile, TOKEN);

describe('an alert reaches Gotify, Apprise and a webhook once each', () => {
  let lab: Lab;
  let gotify: Receiver;
  let apprise: Receiver;
  let hook: Receiver;
  before(async () => {
    gotify = await testGotify(TOKEN).start();
    apprise = await testApprise({ labwatch: [{ url: 'tgram://bot/chat', tags: ['homelab'] }] }).start();
    hook = await testWebhook().start();
    lab = await startLab({
      channels: [],
      notifyExtra: {
        gotify: { url: gotify.url, token_file: tokenFile },
        apprise: { url: apprise.url, key: 'labwatch', tags: ['homelab'] },
        webhook: { url: `${hook.url}/hook` },
      },
    });
  });
  after(async () => {
    await lab.stop();
    for (const s of [gotify, apprise, hook]) await s.stop();
  });

  test('critical at once, a warning at once, the resolution once: no channel hears anything twice', async () => {
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('the critical on all three', () => gotify.accepted.length && apprise.accepted.length && hook.accepted.length);
    assert.equal((await lab.post(MIXED_AM09)).status, 200);
    assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
    await waitFor('three messages on each', () => gotify.accepted.length === 3 && apprise.accepted.length === 3 && hook.accepted.length === 3);
    await lab.drained();
    assert.deepEqual(gotify.accepted.map((r) => [r.json.title, r.json.priority]), [
      ['[CRITICAL] ni3: This is a demo', 8],
      ['[WARNING] ServerStop', 5],
      ['[RESOLVED] ni3: This is a demo', 2],
    ]);
    assert.deepEqual(apprise.accepted.map((r) => [r.path, r.json.type, r.json.tag]), [
      ['/notify/labwatch', 'failure', ['homelab']],
      ['/notify/labwatch', 'warning', ['homelab']],
      ['/notify/labwatch', 'success', ['homelab']],
    ]);
    assert.deepEqual(hook.accepted.map((r) => [r.json.kind, r.json.severity, r.json.title]), [
      ['opened', 'critical', 'This is a demo'],
      ['opened', 'warning', 'ServerStop'],
      ['resolved', 'critical', 'This is a demo'],
    ]);
    assert.equal(hook.accepted[0]!.json.incident_id, hook.accepted[2]!.json.incident_id);

    // The same delivery run again, as a retried or duplicated job would: the ledger has it.
    const first = hook.accepted[0]!.json as { incident_id: string; revision: number };
    for (const channel of ['gotify', 'apprise', 'webhook']) await lab.daemon.queues.add('notify', { incidentId: first.incident_id, revision: first.revision, channel }, `again|${channel}`);
    await lab.drained();
    assert.deepEqual([gotify, apprise, hook].map((s) => s.accepted.length), [3, 3, 3], 'nothing sent twice');
    assert.equal(lab.logs.filter((l) => l.includes('already delivered on this channel')).length, 3);
  });

  test('a Gotify 500 is retried and the message arrives once; a webhook 401 is not retried', async () => {
    const g = gotify.requests.length;
    const h = hook.requests.length;
    gotify.respondNext(500, { error: 'Internal Server Error', errorCode: 500, errorDescription: 'database is locked' }).respondNext(500, { error: 'Internal Server Error', errorCode: 500, errorDescription: 'database is locked' });
    hook.respondNext(401, { message: 'Invalid webhook token' });
    assert.equal((await lab.post(stormBody([stormAlert(1)]))).status, 200);
    await waitFor('the message after two 500s', () => gotify.requests.length === g + 3 && gotify.requests.at(-1)!.status === 200, 20_000);
    await lab.drained(20_000);
    assert.equal(gotify.requests.length, g + 3, 'two refused, one accepted');
    assert.equal(hook.requests.length, h + 1, 'the 401 was final: no retry');
    const text = await (await fetch(`${lab.url}/metrics`)).text();
    assert.match(text, /labwatch_notifications_total\{channel="webhook",outcome="gave_up"\} 1/);
    assert.match(text, /labwatch_notifications_total\{channel="gotify",outcome="sent"\} 4/);
    assert.ok(lab.logs.some((l) => l.includes('Invalid webhook token')), 'the receiver’s words are in the log');
  });

  test('the digest goes to every configured channel once', async () => {
    const before = [gotify, apprise, hook].map((s) => s.accepted.length);
    const end = new Date(Date.now() + 60_000);
    await Promise.all([lab.daemon.queueDigest(end), lab.daemon.queueDigest(end)]);
    await waitFor('the digest on all three', () => [gotify, apprise, hook].every((s, i) => s.accepted.length === before[i]! + 1));
    await lab.drained();
    assert.match(gotify.accepted.at(-1)!.json.title, /^\[DIGEST\] /);
    assert.equal(gotify.accepted.at(-1)!.json.priority, 2);
    assert.equal(apprise.accepted.at(-1)!.json.type, 'info');
    assert.equal(hook.accepted.at(-1)!.json.kind, 'digest');
    assert.deepEqual([gotify, apprise, hook].map((s, i) => s.accepted.length - before[i]!), [1, 1, 1]);
  });
});

describe('a Redis blip right after the webhook took a message', () => {
  let redis: PrivateRedis;
  let lab: Lab;
  let hook: Receiver;
  before(async () => {
    redis = await new PrivateRedis().start();
    hook = await testWebhook().start();
    lab = await startLab({ redisUrl: redis.url, channels: [], notifyExtra: { webhook: { url: `${hook.url}/hook` } } });
  });
  after(async () => {
    await lab.stop();
    await redis.stop();
    await hook.stop();
  });

  test('the delivery is recorded once Redis is back, and the retried job does not send again', async () => {
    let stopping: Promise<void> | undefined;
    hook.beforeAnswer = () => (stopping ??= redis.stop());
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('the webhook to have the message', () => hook.requests.length >= 1, 20_000);
    await stopping;
    hook.beforeAnswer = undefined;
    await new Promise((r) => setTimeout(r, 3000)); // the outage itself
    await redis.start();
    await waitFor('the delivery recorded', async () => (await lab.keys('delivery:*')).length === 1, 30_000);
    await lab.drained(30_000);
    assert.equal(hook.requests.length, 1, 'one POST to the webhook');
    assert.deepEqual(await lab.keys('sending:*'), [], 'no send left uncertain');
  });
});
