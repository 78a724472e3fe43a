import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import type { Anomaly, Incident } from '../../src/incidents/types.ts';
import { FIRING_AM021, MIXED_AM09, resolvedOf } from '../helpers/payloads.ts';

const of = (body: string) => alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body)));
const T0 = '2026-11-24T10:00:00.000Z';
const T1 = '2026-11-24T10:05:00.000Z';
const T2 = '2026-11-24T10:10:00.000Z';

function open(batch: Anomaly[], at = T0): Incident {
  const r = mergeAnomalies(null, batch, at);
  assert.ok(r?.announce);
  return r.incident;
}

test('a firing alert opens revision 1 of a firing incident, to be announced', () => {
  const inc = open(of(FIRING_AM021));
  assert.equal(inc.status, 'firing');
  assert.equal(inc.revision, 1);
  assert.equal(inc.kind, 'opened');
  assert.equal(inc.severity, 'critical');
  assert.equal(inc.title, 'This is a demo');
  assert.equal(inc.host, 'ni3');
  assert.equal(inc.since, '2021-01-07T08:38:00.032Z');
  assert.deepEqual(inc.changes, ['DemoAlert on ni3 started firing']);
  assert.match(inc.id, /^inc-[0-9a-f]{10}-[0-9a-z]+$/);
});

test('an unchanged repeat touches the incident but makes no revision and no work', () => {
  const inc = open(of(FIRING_AM021));
  const r = mergeAnomalies(inc, of(FIRING_AM021), T1)!;
  assert.equal(r.announce, false);
  assert.equal(r.incident.revision, 1);
  assert.equal(r.incident.lastSeenAt, T1);
  assert.equal(Object.values(r.incident.anomalies)[0]!.repeats, 1);
});

test('a changed annotation alone (e.g. a value in the text) is not a new revision', () => {
  const inc = open(of(FIRING_AM021));
  const changed = of(FIRING_AM021.replace('This is a demo', 'This is a demo (value 93%)'));
  assert.equal(mergeAnomalies(inc, changed, T1)!.announce, false);
});

test('a rise in severity is a new revision that says what changed; a fall is recorded quietly', () => {
  const warning = of(FIRING_AM021.replace('"severity":"critical"', '"severity":"warning"'));
  const inc = open(warning);
  assert.equal(inc.severity, 'warning');
  const up = mergeAnomalies(inc, of(FIRING_AM021), T1)!;
  assert.equal(up.announce, true);
  assert.equal(up.incident.revision, 2);
  assert.equal(up.incident.kind, 'updated');
  assert.equal(up.incident.severity, 'critical');
  assert.deepEqual(up.incident.changes, ['DemoAlert on ni3 escalated from warning to critical']);
  const down = mergeAnomalies(up.incident, warning, T2)!;
  assert.equal(down.announce, false, 'a value swinging back under a limit does not announce');
  assert.equal(down.incident.revision, 2);
  assert.equal(Object.values(down.incident.anomalies)[0]!.severity, 'critical', 'the incident keeps the highest severity it reached');
  const upAgain = mergeAnomalies(down.incident, of(FIRING_AM021), T2)!;
  assert.equal(upAgain.announce, false, 'so swinging back up is not news either');
});

test('resolution closes the incident as a new revision; a repeated resolution changes nothing', () => {
  const inc = open(of(FIRING_AM021));
  const r = mergeAnomalies(inc, of(resolvedOf(FIRING_AM021)), T1)!;
  assert.equal(r.announce, true);
  assert.equal(r.incident.status, 'resolved');
  assert.equal(r.incident.kind, 'resolved');
  assert.equal(r.incident.revision, 2);
  assert.equal(r.incident.resolvedAt, T1);
  assert.deepEqual(r.incident.changes, ['DemoAlert on ni3 resolved']);
  const again = mergeAnomalies(r.incident, of(resolvedOf(FIRING_AM021)), T2)!;
  assert.equal(again.announce, false);
  assert.equal(again.incident.revision, 2);
});

test('firing again after resolution opens a new incident with a new id', () => {
  const inc = open(of(FIRING_AM021));
  const closed = mergeAnomalies(inc, of(resolvedOf(FIRING_AM021)), T1)!.incident;
  const reopened = mergeAnomalies(closed, of(FIRING_AM021), T2)!;
  assert.equal(reopened.announce, true);
  assert.equal(reopened.incident.revision, 1);
  assert.equal(reopened.incident.seq, 2);
  assert.notEqual(reopened.incident.id, inc.id);
});

test('even within the same millisecond, a reopened incident gets a new id', () => {
  const inc = open(of(FIRING_AM021), T0);
  const closed = mergeAnomalies(inc, of(resolvedOf(FIRING_AM021)), T0)!.incident;
  assert.notEqual(mergeAnomalies(closed, of(FIRING_AM021), T0)!.incident.id, inc.id);
});

test('a resolution for an alert never seen firing is recorded but not announced', () => {
  const r = mergeAnomalies(null, of(resolvedOf(FIRING_AM021)), T0)!;
  assert.equal(r.announce, false);
  assert.equal(r.incident.revision, 0);
  assert.equal(r.incident.status, 'resolved');
});

test('one alert of two resolving is an update, and the incident stays firing', () => {
  const [firing, resolved] = of(MIXED_AM09);
  const bothFiring = open([firing!, { ...resolved!, status: 'firing' }]);
  assert.equal(bothFiring.title, 'ServerStop (+1 more)');
  const r = mergeAnomalies(bothFiring, [firing!, resolved!], T1)!;
  assert.equal(r.announce, true);
  assert.equal(r.incident.status, 'firing');
  assert.equal(r.incident.kind, 'updated');
  assert.deepEqual(r.incident.changes, ['ServerStop on a1 resolved']);
  assert.equal(r.incident.title, 'ServerStop');
});

test('the same group key is the same incident whatever the order of alerts', () => {
  const [a, b] = of(MIXED_AM09);
  const x = open([a!, b!]);
  const y = open([b!, a!]);
  assert.equal(x.id, y.id);
  assert.deepEqual(Object.keys(x.anomalies).sort(), Object.keys(y.anomalies).sort());
});
