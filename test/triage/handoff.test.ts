/**
 * Triage makes the report and hands it to notify; notify announces it from what is in Redis.
 * The two stages share nothing but Redis and the hand-off, so each side here runs over its own
 * connection, as two labwatch processes would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import type { Incident } from '../../src/incidents/types.ts';
import { notifyHandler } from '../../src/notify/job.ts';
import { DeliveryLedger } from '../../src/notify/ledger.ts';
import type { Message, Notifier } from '../../src/notify/notifier.ts';
import type { JobContext } from '../../src/queue/index.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { triageHandler } from '../../src/triage/job.ts';
import type { Report } from '../../src/triage/report.ts';
import { ReportStore } from '../../src/triage/reports.ts';
import { twoConnections } from '../helpers/two-processes.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

const prefix = `lwtest-handoff-${randomBytes(3).toString('hex')}`;
const silent = createLogger({ level: 'silent' });
const ctx = (id: string): JobContext => ({ id, attemptsMade: 0, attempts: 3, postpone: async () => new Error('postponed') });
const redis = twoConnections(prefix);

test("the report triage saved is the one notify's job sends, read by another process", async () => {
  const p = `${prefix}-send`;
  const incidents = new IncidentStore(redis.a, p, 3600);
  const opened = (await incidents.ingest(alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021)))))!;
  const handed: { view: Incident; report: Report }[] = [];
  const triage = triageHandler({
    store: incidents,
    reports: new ReportStore(redis.a, p, 3600),
    triager: { investigate: async (view) => ({ ...deterministicReport(view), summary: 'Made by triage in process A.' }) },
    announce: async (view, report) => void handed.push({ view, report }),
    requeue: async () => {},
    log: silent,
    metrics: new Metrics(),
  });
  await triage({ incidentId: opened.incidentId, due: opened.due }, ctx('triage-1'));
  assert.equal(handed.length, 1, 'the report was handed to notify once');
  assert.equal(handed[0]!.view.kind, 'opened');
  assert.equal(handed[0]!.report.summary, 'Made by triage in process A.');

  // Process B: only notify, with its own connection and stores.
  const sent: Message[] = [];
  const email: Notifier = { channel: 'email', send: async (m) => (sent.push(m), '<m1@lab>'), probe: async () => {}, close: async () => {} };
  const notify = notifyHandler({ reports: new ReportStore(redis.b, p, 3600), ledger: new DeliveryLedger(redis.b, p, 3600), notifiers: new Map([['email', email]]), circuits: new Map(), log: silent, metrics: new Metrics() });
  await notify({ incidentId: opened.incidentId, revision: handed[0]!.view.revision, channel: 'email' }, ctx('notify-1'));
  assert.equal(sent.length, 1);
  assert.match(sent[0]!.text, /Made by triage in process A\./);
  await notify({ incidentId: opened.incidentId, revision: handed[0]!.view.revision, channel: 'email' }, ctx('notify-2'));
  assert.equal(sent.length, 1, 'delivered once: the ledger remembers it');

  // A second run of the triage job finds the revision reported: nothing is made or handed again.
  await triage({ incidentId: opened.incidentId, due: opened.due }, ctx('triage-2'));
  assert.equal(handed.length, 1);
});
