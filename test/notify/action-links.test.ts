/**
 * The signed Acknowledge / Snooze links: one incident, one use, an expiry, a key kept in Redis and
 * shared by every labwatch on it; and how they ride in an ntfy push (buttons that POST; in the
 * body, the page that asks first).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { ActionLinks } from '../../src/notify/action-links.ts';
import { NtfyNotifier } from '../../src/notify/channels/ntfy/send.ts';
import { messageFor } from '../../src/notify/render.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { TestNtfy } from '../helpers/ntfy.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

const prefix = `lwtest-links-${randomBytes(3).toString('hex')}`;
const id = 'inc-0123456789-mwv0a5ue';
let redis: Redis;
const receivers: TestNtfy[] = [];
before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  for (const r of receivers) await r.stop();
});

/** `token` with the character at `at` replaced by another base64url character. */
function altered(token: string, at: number): string {
  const c = token[at]!;
  return token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

test('a link acts once on the incident it names; a replay is refused as used', async () => {
  const links = new ActionLinks(redis, prefix);
  const token = await links.sign({ incident: id, action: 'snooze', snoozeMs: 86_400_000 });
  assert.ok(token.length <= 100, `${token.length} characters fit the router's path parameter`);
  const first = await links.use(token);
  assert.equal(first.ok, true);
  assert.deepEqual(first.ok && { ...first.claim, nonce: 'n' }, { incident: id, action: 'snooze', snoozeMs: 86_400_000, nonce: 'n' });
  assert.deepEqual(await links.use(token), { ok: false, reason: 'used' });
  // The record of its use lasts until the link would have expired anyway, not forever.
  const [used] = await redis.keys(`${prefix}:linkused:*`);
  const ttl = await redis.pttl(used!);
  assert.ok(ttl > 6 * 86_400_000 && ttl <= 7 * 86_400_000, `kept ${ttl} ms`);
});

test('a link with any one character changed is refused as forged, wherever the change is', async () => {
  const links = new ActionLinks(redis, prefix);
  const token = await links.sign({ incident: id, action: 'acknowledge' });
  for (const at of [0, 10, token.indexOf('.') - 1, token.indexOf('.') + 1, token.length - 1]) {
    assert.deepEqual(await links.use(altered(token, at)), { ok: false, reason: 'forged' }, `changed at ${at}`);
  }
  for (const junk of ['', 'x', '.', `${token}.`, token + 'A', 'A'.repeat(10_000), `${'A'.repeat(60)}.${'A'.repeat(22)}`])
    assert.deepEqual(await links.use(junk), { ok: false, reason: 'forged' }, `junk of ${junk.length} characters`);
  assert.equal((await links.use(token)).ok, true, 'the real one still works: the forgeries used nothing up');
});

test('an expired link is refused, and refused before it can be used', async () => {
  const links = new ActionLinks(redis, prefix);
  assert.deepEqual(await links.use(await links.sign({ incident: id, action: 'acknowledge' }, -1000)), { ok: false, reason: 'expired' });
  const token = await links.sign({ incident: id, action: 'acknowledge' }, 60_000);
  assert.deepEqual(await links.use(token, Date.now() + 61_000), { ok: false, reason: 'expired' });
  assert.equal((await links.use(token)).ok, true);
});

test('every labwatch on one Redis shares the key made once; another Redis prefix knows none of its links', async () => {
  const a = new ActionLinks(redis, prefix);
  const b = new ActionLinks(redis, prefix);
  const [ta, tb] = await Promise.all([a.sign({ incident: id, action: 'acknowledge' }), b.sign({ incident: id, action: 'acknowledge' })]);
  assert.equal((await b.use(ta)).ok, true);
  assert.equal((await a.use(tb)).ok, true);
  assert.equal(Buffer.from((await redis.get(`${prefix}:linkkey`))!, 'base64').length, 32);
  const other = new ActionLinks(redis, `${prefix}-other`);
  assert.deepEqual(await other.use(await a.sign({ incident: id, action: 'acknowledge' })), { ok: false, reason: 'forged' });
});

/** A message about a real Alertmanager alert, with the two signed actions under `base`. */
async function messageWithActions(base: string) {
  const inc = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021))), '2026-11-24T10:00:00.000Z')!.incident;
  const report = deterministicReport(inc, [], new Date('2026-11-24T10:00:01Z'));
  const actions = await new ActionLinks(redis, prefix).actionsFor(inc.id, base);
  return messageFor(report, base, actions);
}

test("ntfy gets the report's page and two buttons that POST; the alert's own link moves into the body", async () => {
  const ntfy = await new TestNtfy().start();
  receivers.push(ntfy);
  await new NtfyNotifier({ url: ntfy.url, topic: 'homelab' }).send(await messageWithActions('https://labwatch.example.net/'));
  const push = ntfy.published[0]!;
  const actions = String(push.headers.actions).split('; ');
  assert.equal(actions.length, 3, 'ntfy shows at most three');
  assert.match(actions[0]!, /^view, Open report, https:\/\/labwatch\.example\.net\/incidents\/inc-/);
  assert.match(actions[1]!, /^http, Acknowledge, https:\/\/labwatch\.example\.net\/api\/act\/[\w-]+\.[\w-]+, method=POST, clear=true$/);
  assert.match(actions[2]!, /^http, Snooze 24 h, https:\/\/labwatch\.example\.net\/api\/act\/[\w-]+\.[\w-]+, method=POST, clear=true$/);
  assert.match(push.body, /Prometheus expression: <http:\/\/n3:9090\/graph\?/, 'the link that lost its button is a line of the body');
});

test('behind a proxy with tiny header limits the buttons become links to the pages that ask first, never links that act', async () => {
  const ntfy = await new TestNtfy({ maxHeaderBytes: 600 }).start();
  receivers.push(ntfy);
  await new NtfyNotifier({ url: ntfy.url, topic: 'homelab' }).send(await messageWithActions('https://labwatch.example.net'));
  assert.equal(ntfy.refused.length, 1);
  const push = ntfy.published[0]!;
  assert.equal(push.headers.actions, undefined);
  assert.match(push.body, /Acknowledge: <https:\/\/labwatch\.example\.net\/act\/[\w-]+\.[\w-]+>/);
  assert.match(push.body, /Snooze 24 h: <https:\/\/labwatch\.example\.net\/act\/[\w-]+\.[\w-]+>/);
  assert.doesNotMatch(push.body, /\/api\/act\//, 'a link anyone may GET never acts');
});
