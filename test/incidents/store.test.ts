/** The incident store and intake against real Redis: atomic commits, the outbox, nothing lost. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { Intake } from '../../src/incidents/intake.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { MIXED_AM09, FIRING_AM021 } from '../helpers/payloads.ts';

const prefix = `lwtest-store-${randomBytes(3).toString('hex')}`;
const of = (body: string) => alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body)));
const silent = createLogger({ level: 'silent' });
let a: Redis;
let b: Redis;

before(() => {
  a = new Redis(TEST_REDIS_URL);
  b = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await a.keys(`${prefix}*`);
  if (keys.length) await a.del(...keys);
  a.disconnect();
  b.disconnect();
});

test('two processes updating one group at once lose neither update', async () => {
  const p = `${prefix}-cas`;
  const storeA = new IncidentStore(a, p, 3600);
  const storeB = new IncidentStore(b, p, 3600);
  const [firing, other] = of(MIXED_AM09);
  const second = { ...other!, status: 'firing' as const };
  await storeA.ingest([firing!]);
  // Many interleaved writers on separate connections: each must see the other's commits.
  const writes = [];
  for (let i = 0; i < 20; i++) {
    const sev = i % 2 === 0 ? ('critical' as const) : ('warning' as const);
    writes.push((i % 2 ? storeA : storeB).ingest([{ ...second, severity: sev }]));
  }
  const results = await Promise.all(writes);
  const latest = results.reduce((m, r) => (r!.incident.revision > m.revision ? r!.incident : m), results[0]!.incident);
  const stored = await storeA.getIncident(latest.id);
  assert.equal(Object.keys(stored!.anomalies).length, 2, 'both anomalies are in the incident');
  assert.equal(stored!.revision, latest.revision, 'the highest committed revision is the stored one');
  const announced = results.filter((r) => r!.announce).length;
  assert.equal(stored!.revision, 1 + announced, 'every announced change got its own revision');
  const outbox = await storeA.pendingOutbox();
  assert.equal(outbox.length, stored!.revision, 'every revision is waiting in the outbox');
});

test('a revision committed while the queue is unreachable is queued by the sweeper, exactly once', async () => {
  const p = `${prefix}-outbox`;
  const store = new IncidentStore(a, p, 3600);
  const queued: string[] = [];
  let queueUp = false;
  const intake = new Intake(
    store,
    async (id, rev) => {
      if (!queueUp) throw new Error('queue unreachable');
      queued.push(`${id}|${rev}`);
    },
    silent,
    new Metrics(),
  );
  const [committed] = await intake.accept(of(FIRING_AM021));
  assert.equal(committed!.announce, true);
  assert.deepEqual(queued, []);
  assert.deepEqual(await store.pendingOutbox(), [{ id: committed!.incident.id, revision: 1 }]);

  queueUp = true;
  assert.equal(await intake.sweep(), 1);
  assert.deepEqual(queued, [`${committed!.incident.id}|1`]);
  assert.deepEqual(await store.pendingOutbox(), []);
  assert.equal(await intake.sweep(), 0, 'nothing left to queue');
});

test('a resolved incident expires after the retention; a firing one does not', async () => {
  const p = `${prefix}-ttl`;
  const store = new IncidentStore(a, p, 120);
  const firing = (await store.ingest(of(FIRING_AM021)))!.incident;
  assert.equal(await a.ttl(`${p}:incident:${firing.id}`), -1);
  const resolvedBody = FIRING_AM021.replace(/"status":"firing"/g, '"status":"resolved"');
  await store.ingest(of(resolvedBody));
  const ttl = await a.ttl(`${p}:incident:${firing.id}`);
  assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
  assert.deepEqual(await store.countByState(), { firing: 0, resolved: 1 });
});
