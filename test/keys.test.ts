/**
 * Redis keys after the state was split by stage: data an earlier labwatch wrote is still read
 * (no migration), and every key a running labwatch writes is one of the families listed in
 * src/keys.ts, so that table cannot fall behind the code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { IncidentStore } from '../src/incidents/store.ts';
import { KEY_FAMILIES } from '../src/keys.ts';
import { DeliveryLedger } from '../src/notify/ledger.ts';
import { NotifyState } from '../src/notify/state.ts';
import { RuleEngine } from '../src/rules/engine.ts';
import { createLogger } from '../src/telemetry/log.ts';
import { ReportStore } from '../src/triage/reports.ts';
import { FIRING_AM021, resolvedOf } from './helpers/payloads.ts';
import { SECRETS, TEST_REDIS_URL, startLab } from './helpers/lab.ts';
import { waitFor } from './helpers/wait.ts';

const p = `lwtest-keys-${randomBytes(3).toString('hex')}`;
let redis: Redis;
before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${p}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const id = 'inc-0123456789-mwv0a5ue';
const report = { incidentId: id, revision: 2, kind: 'opened', producer: 'deterministic', severity: 'critical', host: 'ni3', title: 'This is a demo', summary: 'Pool tank is degraded.', changes: [], facts: [], causes: [], actions: [], alerts: [], links: [], openedAt: '2021-01-07T08:38:00Z', since: '2021-01-07T08:38:00Z', createdAt: '2021-01-07T08:38:05Z', notes: [] };
const snapshot = { id, revision: 2, groupKey: 'host:ni3', status: 'firing', title: 'This is a demo' };

test('what an earlier labwatch wrote to Redis is read by the stage that owns it now, with no migration', async () => {
  // Written as IncidentStore and DeliveryLedger wrote them before the split, key for key.
  await redis
    .multi()
    .set(`${p}:report:${id}:2`, JSON.stringify(report))
    .set(`${p}:report:${id}:2-again1`, JSON.stringify({ ...report, kind: 'reminder', variant: 'again1' }))
    .hset(`${p}:cost:${id}`, { input: '1200', output: '300', cache_read: '900', cache_write: '100', usd: '0.0123', investigations: '1' })
    .set(`${p}:revision:${id}:2`, JSON.stringify(snapshot))
    .set(`${p}:announced:${id}`, JSON.stringify({ at: '2021-01-08T08:38:05.000Z', reminders: 1 }))
    .set(`${p}:reminder:${id}:1`, '1')
    // the group key host:ni3 hashed (stableHash): a change of hash would orphan this too
    .zadd(`${p}:changes:64aea4287c73778c`, Date.now() - 60_000, `${id}|1`, Date.now() - 30_000, `${id}|2`)
    .hset(`${p}:flapping`, 'host:other', JSON.stringify({ since: 1, last: 2, changes: 5 }))
    .set(`${p}:digest:last`, '2021-01-07T07:00:00.000Z')
    .set(`${p}:delivery:${id}:2:email`, JSON.stringify({ at: '2021-01-07T08:38:06.000Z', ref: '<a@b>' }))
    .set(`${p}:sending:${id}:2-again1:ntfy`, JSON.stringify({ at: '2021-01-08T08:38:06.000Z', job: 'notify|x' }))
    .lpush(`${p}:obs:hist:disk:WD-123`, JSON.stringify({ at: '2021-01-07T08:00:00.000Z', values: { reallocated: 8 } }))
    .set(`${p}:groupof:disk:WD-123`, 'pool:ni3/tank')
    .exec();

  const reports = new ReportStore(redis, p, 3600);
  assert.deepEqual(await reports.getReport(id, 2), report);
  assert.equal((await reports.getReport(id, 2, 'again1'))?.kind, 'reminder');
  assert.deepEqual(await reports.triageCost(id), { input: 1200, output: 300, cacheRead: 900, cacheWrite: 100, usd: 0.0123, investigations: 1, local: false });
  assert.deepEqual(await reports.getRevision(id, 2), snapshot);

  const notes = new NotifyState(redis, p, 3600);
  assert.deepEqual(await notes.lastAnnounced(id), { at: '2021-01-08T08:38:05.000Z', reminders: 1 });
  assert.equal(await notes.claimReminder(id, 1), false, 'reminder 1 was sent before the upgrade: not again');
  assert.equal(await notes.recordChange('host:ni3', `${id}|3`, Date.now(), 15 * 60_000), 3, 'the two earlier changes still count');
  assert.deepEqual([...(await notes.flapping()).keys()], ['host:other']);
  assert.equal(await notes.startFlapping('host:other', { since: 3, last: 3, changes: 1 }), false, 'still flapping');
  assert.equal(await notes.lastDigest(), '2021-01-07T07:00:00.000Z');

  const ledger = new DeliveryLedger(redis, p, 3600);
  assert.deepEqual(await ledger.state(id, 2, 'email'), { state: 'delivered' });
  assert.equal((await ledger.state(id, '2-again1', 'ntfy')).state, 'uncertain');

  // An incident from before pacing (no pace hash): its last report is found by its key.
  assert.equal(await new IncidentStore(redis, p, 3600).reportedRevision(id, 3), 2);

  const engine = new RuleEngine(redis, p, { rules: [], files: [] }, createLogger({ level: 'silent' }));
  assert.deepEqual(await engine.history('disk:WD-123'), [{ at: '2021-01-07T08:00:00.000Z', values: { reallocated: 8 } }]);
  assert.deepEqual(await engine.groupsOf(['disk:WD-123']), ['pool:ni3/tank']);
});

test('every key a running labwatch writes belongs to a family listed in src/keys.ts', async () => {
  const lab = await startLab();
  try {
    // ntfy refuses once: the failed delivery is kept for the dashboard's timeline.
    lab.ntfy.respondNext(500, { error: 'internal' });
    const posted = await lab.post(FIRING_AM021);
    assert.equal(posted.status, 200);
    await waitFor('the first email', () => lab.smtp.messages[0]);
    await lab.drained();
    // A person logs in and acknowledges it; a drive is observed (the dashboard's lists).
    const login = await fetch(`${lab.url}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: SECRETS.httpToken, name: 'alice' }) });
    assert.equal(login.status, 200);
    const incident = (posted.json.incidents as string[])[0]!;
    const ack = await fetch(`${lab.url}/api/incidents/${incident}/acknowledge`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.httpToken}`, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(ack.status, 200);
    await lab.daemon.actions.unsnooze(incident, 'alice', 'test');
    await lab.daemon.rules.observe([{ source: 'smart', kind: 'drive', subject: 'disk:WD-123', host: 'nas', at: new Date().toISOString(), values: { temperature_c: 35 }, summary: 'WD 35 °C' }]);
    // Acknowledged: no reminder.
    assert.equal(await lab.daemon.reminders!.sweep(new Date(Date.now() + 25 * 3_600_000)), 0);
    await lab.drained();
    await lab.daemon.queueDigest(new Date());
    assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
    await waitFor('the resolution', () => lab.smtp.messages.find((m) => m.parsed.subject?.startsWith('[RESOLVED]')));
    await lab.drained();

    const families = Object.keys(KEY_FAMILIES);
    const familyOf = (key: string) => families.find((f) => key === f || key.startsWith(`${f}:`));
    const keys = await lab.keys();
    assert.deepEqual(keys.filter((k) => !familyOf(k)), [], 'keys of no listed family');
    // Not vacuous: the flow went through every stage's state.
    const seen = new Set(keys.map(familyOf));
    for (const f of ['group', 'incident', 'pace', 'report', 'revision', 'delivery', 'failure', 'announced', 'changes', 'digest:last', 'q', 'session', 'attention', 'actions', 'obs:seen', 'obs:latest', 'obs:last', 'obs:hist'])
      assert.ok(seen.has(f), `the flow wrote ${f} keys`);
  } finally {
    await lab.stop();
  }
});
