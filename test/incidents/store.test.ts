/** The incident store and intake against real Redis: atomic commits, the outbox, nothing lost. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { Intake } from '../../src/incidents/intake.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { twoConnections } from '../helpers/two-processes.ts';
import { MIXED_AM09, FIRING_AM021 } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';

const prefix = `lwtest-store-${randomBytes(3).toString('hex')}`;
const of = (body: string) => alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body)));
const silent = createLogger({ level: 'silent' });
const redis = twoConnections(prefix);

test('two processes updating one group at once lose neither update', async () => {
  const p = `${prefix}-cas`;
  const storeA = new IncidentStore(redis.a, p, 3600);
  const storeB = new IncidentStore(redis.b, p, 3600);
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
  const revisions = results.flatMap((r) => (r!.incident ? [r!.incident.revision] : []));
  const stored = await storeA.getIncident(results[0]!.incidentId);
  assert.ok(results.every((r) => r!.incidentId === stored!.id), 'one incident throughout');
  assert.equal(Object.keys(stored!.anomalies).length, 2, 'both anomalies are in the incident');
  assert.equal(stored!.revision, Math.max(...revisions), 'the highest committed revision is the stored one');
  const announced = results.filter((r) => r!.announce).length;
  assert.equal(stored!.revision, 1 + announced, 'every announced change got its own revision');
  const outbox = await storeA.pendingOutbox();
  assert.deepEqual(outbox.map((o) => o.id), [stored!.id], 'one report is waiting for all those revisions');
});

test('a revision committed while the queue is unreachable is queued by the sweeper, exactly once', async () => {
  const p = `${prefix}-outbox`;
  const store = new IncidentStore(redis.a, p, 3600);
  const queued: string[] = [];
  let queueUp = false;
  let tries = 0;
  const intake = new Intake(
    store,
    async (reports) => {
      tries++;
      if (!queueUp) throw new Error('queue unreachable');
      queued.push(...reports.map((r) => `${r.incidentId}|${r.due}`));
    },
    silent,
    new Metrics(),
  );
  const [committed] = await intake.accept(of(FIRING_AM021));
  assert.equal(committed!.announce, true);
  // Due at once (no group_wait here): the intake tries to queue it, and fails.
  await waitFor('the first attempt to queue the report', () => tries === 1);
  assert.deepEqual(queued, []);
  const due = committed!.due;
  assert.ok(due > 0);
  assert.deepEqual(await store.pendingOutbox(), [{ id: committed!.incidentId, due }]);

  queueUp = true;
  assert.equal(await intake.sweep(), 1);
  assert.deepEqual(queued, [`${committed!.incidentId}|${due}`]);
  // The report job claims it; until then the sweeper re-queues it under the same job id (a no-op).
  assert.deepEqual(await store.claimReport(committed!.incidentId, 'job-1', due), { state: 'claimed' });
  assert.deepEqual(await store.pendingOutbox(), []);
  assert.equal(await intake.sweep(), 0, 'nothing left to queue');
});

test('after a new incident opens in the group, repeats count towards it, not the old one', async () => {
  const p = `${prefix}-reopen`;
  const store = new IncidentStore(redis.a, p, 3600);
  const resolvedBody = FIRING_AM021.replace(/"status":"firing"/g, '"status":"resolved"');
  const old = (await store.ingest(of(FIRING_AM021)))!.incident!;
  await store.ingest(of(resolvedBody));
  const reopened = (await store.ingest(of(FIRING_AM021)))!.incident!;
  assert.notEqual(reopened.id, old.id);
  const repeat = (await store.ingest(of(FIRING_AM021)))!;
  assert.equal(repeat.incidentId, reopened.id);
  assert.equal(Object.values((await store.getIncident(reopened.id))!.anomalies)[0]!.repeats, 1);
  assert.equal((await store.getIncident(old.id))!.status, 'resolved');
});

test('a resolved incident expires after the retention; a firing one does not', async () => {
  const p = `${prefix}-ttl`;
  const store = new IncidentStore(redis.a, p, 120);
  const firing = (await store.ingest(of(FIRING_AM021)))!.incident!;
  assert.equal(await redis.a.ttl(`${p}:incident:${firing.id}`), -1);
  const resolvedBody = FIRING_AM021.replace(/"status":"firing"/g, '"status":"resolved"');
  await store.ingest(of(resolvedBody));
  const ttl = await redis.a.ttl(`${p}:incident:${firing.id}`);
  assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
  assert.deepEqual(await store.countByState(), { firing: 0, resolved: 1 });
});

test('unchanged repeats are recorded as sightings; a changed text is stored; neither makes a revision', async () => {
  const p = `${prefix}-repeat`;
  const store = new IncidentStore(redis.a, p, 3600);
  const first = (await store.ingest(of(FIRING_AM021), new Date('2026-11-24T10:00:00Z')))!.incident!;
  for (let i = 1; i <= 3; i++) {
    const r = (await store.ingest(of(FIRING_AM021), new Date(`2026-11-24T10:0${i}:00Z`)))!;
    assert.equal(r.announce, false);
    assert.equal(r.incident, null, 'a repeat only records a sighting');
    assert.equal(r.incidentId, first.id);
  }
  const seen = (await store.getIncident(first.id))!;
  const anomaly = Object.values(seen.anomalies)[0]!;
  assert.equal(anomaly.repeats, 3);
  assert.equal(anomaly.lastSeenAt, '2026-11-24T10:03:00.000Z');
  assert.equal(seen.lastSeenAt, '2026-11-24T10:03:00.000Z');
  assert.equal(seen.revision, 1);

  const reworded = of(FIRING_AM021.replace('This is a demo', 'This is a demo, now at 93%'));
  const r = (await store.ingest(reworded, new Date('2026-11-24T10:04:00Z')))!;
  assert.equal(r.announce, false);
  assert.ok(r.incident, 'a changed text is written');
  const stored = (await store.getIncident(first.id))!;
  assert.equal(Object.values(stored.anomalies)[0]!.summary, 'This is a demo, now at 93%');
  assert.equal(Object.values(stored.anomalies)[0]!.repeats, 4);
  assert.equal(stored.revision, 1);
  assert.deepEqual((await store.pendingOutbox()).map((o) => o.id), [first.id], 'only the opening revision was ever queued');
});

test('a group whose repeat-tracking hash is missing heals on its next write, and repeats are fast again', async () => {
  const p = `${prefix}-heal`;
  const store = new IncidentStore(redis.a, p, 3600);
  const inc = (await store.ingest(of(FIRING_AM021)))!.incident!;
  const content = (await redis.a.keys(`${p}:content:*`))[0]!;
  await redis.a.del(content); // as after an upgrade from a layout without it, or a partial restore
  const slow = (await store.ingest(of(FIRING_AM021)))!;
  assert.ok(slow.incident, 'without the hash, the repeat is written the slow way');
  const fast = (await store.ingest(of(FIRING_AM021)))!;
  assert.equal(fast.incident, null, 'after that write, repeats take the one-round-trip path again');
  assert.equal(fast.incidentId, inc.id);
});

test('news about one incident is due group_wait after it opened, then group_interval after each report; urgent news waits group_wait only', async () => {
  const p = `${prefix}-pace`;
  const store = new IncidentStore(redis.a, p, 3600, () => ({ waitMs: 10_000, intervalMs: 300_000 }));
  const [x, y] = of(MIXED_AM09);
  const at = (s: number) => new Date(Date.parse('2026-12-02T10:00:00Z') + s * 1000);
  const opened = (await store.ingest([{ ...x!, status: 'firing', severity: 'warning' }], at(0)))!;
  assert.equal(opened.due, at(10).getTime(), 'the first report waits group_wait');
  const joined = (await store.ingest([{ ...y!, status: 'firing', severity: 'warning' }], at(4)))!;
  assert.equal(joined.announce, true);
  assert.equal(joined.due, at(10).getTime(), 'news within group_wait joins the first report');
  assert.deepEqual(await store.claimReport(opened.incidentId, 'j1', at(10).getTime()), { state: 'claimed' });
  assert.deepEqual(await store.claimReport(opened.incidentId, 'j2', at(10).getTime()), { state: 'busy' }, 'one report at a time');
  assert.deepEqual(await store.claimReport(opened.incidentId, 'j1', at(11).getTime()), { state: 'resumed' }, 'a retried job resumes its own claim');
  await store.finishReport(opened.incidentId, 'j1', 2);
  assert.equal(await store.reportedRevision(opened.incidentId, 2), 2);

  const resolvedOne = (await store.ingest([{ ...y!, status: 'resolved', severity: 'warning' }], at(20)))!;
  assert.equal(resolvedOne.due, at(310).getTime(), 'a partial resolution waits for group_interval after the last report');
  assert.deepEqual(await store.claimReport(opened.incidentId, 'j3', at(20).getTime()), { state: 'later', due: at(310).getTime() });
  const escalated = (await store.ingest([{ ...x!, status: 'firing', severity: 'critical' }], at(30)))!;
  assert.equal(escalated.due, at(40).getTime(), 'an escalation to critical waits group_wait only');
  assert.deepEqual(await store.claimReport(opened.incidentId, 'j4', at(40).getTime()), { state: 'claimed' });
  await store.finishReport(opened.incidentId, 'j4', escalated.incident!.revision);
  const gone = (await store.ingest([{ ...x!, status: 'resolved', severity: 'critical' }], at(50)))!;
  assert.equal(gone.incident!.status, 'resolved');
  assert.equal(gone.due, at(60).getTime(), "the incident's resolution waits group_wait only");
});

test('a process that never met a group (a restart, a second process) still counts a repeat of it as a sighting, not a new incident', async () => {
  const p = `${prefix}-unmet`;
  const first = (await new IncidentStore(redis.a, p, 3600).ingest(of(FIRING_AM021)))!.incident!;
  // A new store has no memory of the group: it first tries to open the incident in one round trip.
  const restarted = new IncidentStore(redis.b, p, 3600);
  const repeat = (await restarted.ingest(of(FIRING_AM021)))!;
  assert.equal(repeat.incidentId, first.id, 'the same incident');
  assert.equal(repeat.announce, false, 'no new revision, nothing to report');
  const stored = (await restarted.getIncident(first.id))!;
  assert.equal(stored.revision, 1);
  assert.equal(Object.values(stored.anomalies)[0]!.repeats, 1, 'recorded as a sighting');
  assert.deepEqual(await redis.a.keys(`${p}:incident:*`), [`${p}:incident:${first.id}`], 'one incident in Redis');
});
