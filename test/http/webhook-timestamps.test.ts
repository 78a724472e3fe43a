/**
 * Every timestamp of an Alertmanager webhook is checked before anything is stored: a bad one is a
 * 400 that names the alert and the field (Alertmanager does not retry it), never a 500 (which it
 * retries forever). Through real HTTP against a real daemon and Redis.
 *
 * The payloads are the real Alertmanager 0.21 body (../shared/fixtures) with one field changed; the bad
 * timestamps are adversarial values written for this test, not captures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { FIRING_AM021, MIXED_AM09 } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';

type Alert = Record<string, unknown> & { labels: Record<string, string> };

/** The 0.21 body with four alerts (alert i on server ni<i>); `change` edits one of them. */
function fourAlerts(change: (alerts: Alert[]) => void): string {
  const p = JSON.parse(FIRING_AM021) as { alerts: Alert[] };
  const a = p.alerts[0]!;
  p.alerts = [0, 1, 2, 3].map((i) => ({ ...a, labels: { ...a.labels, server: `ni${i}` }, fingerprint: `8a07086b74f3ba7${i}` }));
  change(p.alerts);
  return JSON.stringify(p);
}

/** Adversarial: none of these is an RFC 3339 time, though `Date.parse` accepts several of them. */
const NOT_RFC3339 = [
  'yesterday',
  '1',
  '2021-01-07',
  '2021-01-07 08:38',
  '2021-01-07T08:38:00', // no offset
  '2021-13-07T08:38:00Z',
  '2021-02-30T08:38:00Z',
  '2021-01-07T24:00:00Z',
  '2021-01-07T08:38:00+25:00',
  'Thu, 07 Jan 2021 08:38:00 GMT',
  '+275760-09-13T00:00:00.001Z',
  '2021-01-07T08:38:00.' + '1'.repeat(5000) + 'Z',
];

describe('webhook timestamps', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('before anything was cut, labwatch_webhook_truncated_total is exported at 0 for every kind of cut', async () => {
    const metrics = await (await fetch(`${lab.url}/metrics`)).text();
    for (const what of ['label_value', 'annotation_value', 'name', 'labels', 'annotations', 'alerts'])
      assert.match(metrics, new RegExp(`^labwatch_webhook_truncated_total\\{source="alertmanager",what="${what}"\\} 0$`, 'm'), what);
  });

  test('an unparseable endsAt is a 400 naming the alert and the field, not a 500', async () => {
    const res = await lab.post(fourAlerts((alerts) => (alerts[3]!.endsAt = 'not-a-time')));
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.match(String(res.json.error), /alerts\[3\]\.endsAt: expected an RFC 3339 timestamp/);
    assert.match(String(res.json.error), /"not-a-time"/, 'the answer quotes what was sent');
  });

  for (const field of ['startsAt', 'endsAt'] as const) {
    test(`every ${field} that is not an RFC 3339 time is a 400 naming alerts[2].${field}`, async () => {
      for (const bad of NOT_RFC3339) {
        const res = await lab.post(fourAlerts((alerts) => (alerts[2]![field] = bad)));
        assert.equal(res.status, 400, `${field} ${JSON.stringify(bad.slice(0, 60))} → ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
        assert.match(String(res.json.error), new RegExp(`alerts\\[2\\]\\.${field}: expected an RFC 3339 timestamp`), bad.slice(0, 60));
        assert.ok(String(res.json.error).length < 1000, 'the answer quotes a long value shortened');
      }
    });
  }

  let incidentId = '';
  test("Alertmanager's zero time as the endsAt of a firing alert is accepted (it means: no end yet)", async () => {
    const res = await lab.post(FIRING_AM021);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.anomalies, 1);
    incidentId = (res.json.incidents as string[])[0]!;
  });

  test('offsets, nanoseconds and lower-case t/z are RFC 3339 too, and are accepted', async () => {
    const res = await lab.post(
      fourAlerts((alerts) => {
        alerts[0]!.startsAt = '2021-01-07T09:38:00.032813093+01:00';
        alerts[1]!.startsAt = '2021-01-07t08:38:00z';
        alerts[2]!.status = 'resolved';
        alerts[2]!.endsAt = '2021-01-07T09:10:00.032813093Z';
        alerts[3]!.endsAt = '2021-01-07T09:10:00-02:30';
      }),
    );
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.anomalies, 4);
  });

  test('after the refused deliveries, only the accepted alerts were stored', async () => {
    const incident = await lab.daemon.store.getIncident(incidentId);
    assert.deepEqual(Object.keys(incident!.anomalies).sort(), ['8a07086b74f3ba70', '8a07086b74f3ba71', '8a07086b74f3ba72', '8a07086b74f3ba73', '8a07086b74f3ba78']);
  });
});

test('accepted timestamps are normalised to UTC; the zero endsAt becomes no endsAt', () => {
  const [firing, resolved] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(MIXED_AM09)));
  assert.equal(firing!.startsAt, '2017-10-21T17:50:17.160Z');
  assert.equal(firing!.endsAt, undefined);
  assert.equal(resolved!.endsAt, '2017-10-21T17:50:28.806Z');
  const [a] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(fourAlerts((alerts) => (alerts[0]!.startsAt = '2021-01-07t09:38:00.5+01:00')))));
  assert.equal(a!.startsAt, '2021-01-07T08:38:00.500Z');
});
