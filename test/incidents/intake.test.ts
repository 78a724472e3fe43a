/**
 * The intake drains the outbox into the queue when reports fall due: off the request path, many
 * at once, and nothing committed is lost when the process stops before then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stormAlert, stormBody } from '../helpers/payloads.ts';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { Intake, type DueReport } from '../../src/incidents/intake.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { twoConnections } from '../helpers/two-processes.ts';
import { waitFor } from '../helpers/wait.ts';

const prefix = `lwtest-intake-${randomBytes(3).toString('hex')}`;
const silent = createLogger({ level: 'silent' });
const redis = twoConnections(prefix);
/** Alert `i` of the real Alertmanager body, in a group of its own. */
const alertInGroup = (i: number) => {
  const body = JSON.parse(stormBody([stormAlert(i)])) as Record<string, unknown>;
  return alertsToAnomalies(parseAlertmanagerPayload({ ...body, groupKey: `{}:{group="g${i}"}` }));
};

test('reports are queued when they fall due, not when the alert is answered, and those due together in one batch', async () => {
  const p = `${prefix}-due`;
  const store = new IncidentStore(redis.a, p, 3600, () => ({ waitMs: 400, intervalMs: 60_000 }));
  const batches: { at: number; reports: DueReport[] }[] = [];
  const intake = new Intake(store, async (reports) => void batches.push({ at: Date.now(), reports }), silent, new Metrics());
  const committed = (await Promise.all([0, 1, 2].map((i) => intake.accept(alertInGroup(i))))).flat();
  assert.equal(committed.length, 3);
  assert.equal(batches.length, 0, 'nothing is queued while the answer is made');
  await waitFor('the reports to be queued', () => batches.length > 0, 5_000);
  const dues = committed.map((c) => c.due);
  assert.ok(batches[0]!.at >= Math.min(...dues), 'queued once due');
  await waitFor('all three reports', () => batches.flatMap((b) => b.reports).length === 3, 5_000);
  assert.ok(batches.length <= 2, `a few batches, not one request each (${batches.length})`);
  assert.deepEqual(batches.flatMap((b) => b.reports.map((r) => r.incidentId)).sort(), committed.map((c) => c.incidentId).sort());
  intake.stop();
});

test('a report still waiting when the process stops is queued by the next sweep, here or in another process', async () => {
  const p = `${prefix}-stop`;
  const store = new IncidentStore(redis.a, p, 3600, () => ({ waitMs: 60_000, intervalMs: 60_000 }));
  const first = new Intake(store, async () => assert.fail('nothing is due before the stop'), silent, new Metrics());
  const [c] = await first.accept(alertInGroup(7));
  first.stop();
  const queued: DueReport[] = [];
  // Another process sweeping a minute later (its sweep covers what falls due before the next one).
  const other = new Intake(new IncidentStore(redis.b, p, 3600), async (r) => void queued.push(...r), silent, new Metrics(), 70_000);
  assert.equal(await other.sweep(), 1);
  assert.deepEqual(queued, [{ incidentId: c!.incidentId, due: c!.due }]);
});
