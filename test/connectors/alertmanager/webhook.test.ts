import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../../src/connectors/alertmanager/webhook.ts';
import { PayloadError } from '../../../src/connectors/types.ts';
import { FIRING_AM021, MIXED_AM09 } from '../../helpers/payloads.ts';

const anomaliesOf = (body: string) => alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body)));

test("Alertmanager 0.21's raw body: its fingerprint, severity, host, summary and links are kept", () => {
  const [a, ...rest] = anomaliesOf(FIRING_AM021);
  assert.equal(rest.length, 0);
  assert.equal(a!.fingerprint, '8a07086b74f3ba78');
  assert.equal(a!.rule, 'DemoAlert');
  assert.equal(a!.severity, 'critical');
  assert.equal(a!.host, 'ni3');
  assert.equal(a!.summary, 'This is a demo');
  assert.equal(a!.status, 'firing');
  assert.equal(a!.startsAt, '2021-01-07T08:38:00.032Z');
  assert.equal(a!.endsAt, undefined, 'the zero endsAt of a firing alert is not a time');
  assert.equal(a!.groupKey, 'alertmanager:{}:{alertname="DemoAlert"}');
  assert.deepEqual(a!.links, [
    { title: 'Prometheus expression', url: 'http://n3:9090/graph?g0.expr=sum%28prometheus_build_info%29+%3C+3&g0.tab=1', role: 'source' },
    { title: 'Alertmanager', url: 'http://n3:9093/' },
  ]);
});

test('Alertmanager 0.9 (no fingerprints): stable fingerprints from labels, one group, local offsets normalised', () => {
  const [firing, resolved] = anomaliesOf(MIXED_AM09);
  assert.equal(firing!.status, 'firing');
  assert.equal(resolved!.status, 'resolved');
  assert.match(firing!.fingerprint, /^[0-9a-f]{16}$/);
  assert.notEqual(firing!.fingerprint, resolved!.fingerprint);
  assert.equal(anomaliesOf(MIXED_AM09)[0]!.fingerprint, firing!.fingerprint, 'the same labels give the same fingerprint');
  assert.equal(firing!.groupKey, resolved!.groupKey);
  assert.equal(firing!.startsAt, '2017-10-21T17:50:17.160Z');
  assert.equal(resolved!.endsAt, '2017-10-21T17:50:28.806Z');
  assert.equal(firing!.severity, 'warning', 'no severity label means warning');
  assert.equal(resolved!.host, 'a1');
  assert.equal(firing!.host, '');
  assert.deepEqual(firing!.links, [{ title: 'Alertmanager', url: 'http://joses-macbook-pro-2.local:9093/' }], 'the empty generatorURL is dropped');
});

test('fields from newer Alertmanager versions are accepted and ignored', () => {
  const p = JSON.parse(FIRING_AM021) as Record<string, unknown>;
  p.notification_reason = 'new_alerts';
  p.somethingFuture = { x: 1 };
  assert.equal(alertsToAnomalies(parseAlertmanagerPayload(p)).length, 1);
});

test('without a groupKey, alerts group by alertname and instance', () => {
  const p = JSON.parse(FIRING_AM021) as Record<string, unknown>;
  delete p.groupKey;
  assert.equal(alertsToAnomalies(parseAlertmanagerPayload(p))[0]!.groupKey, 'alertmanager:DemoAlert|ni3');
});

test('severity words from the wild map onto critical, warning and info', () => {
  const withSeverity = (s: string) => {
    const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string> }[] };
    p.alerts[0]!.labels.severity = s;
    return alertsToAnomalies(parseAlertmanagerPayload(p))[0]!.severity;
  };
  assert.equal(withSeverity('page'), 'critical');
  assert.equal(withSeverity('HIGH'), 'critical');
  assert.equal(withSeverity('medium'), 'warning');
  assert.equal(withSeverity('info'), 'info');
  assert.equal(withSeverity('something-else'), 'warning');
});

test('only http(s) links survive: a javascript: runbook never reaches an email', () => {
  const p = JSON.parse(FIRING_AM021) as { alerts: { annotations: Record<string, string> }[] };
  p.alerts[0]!.annotations.runbook_url = 'javascript:alert(1)';
  const a = alertsToAnomalies(parseAlertmanagerPayload(p))[0]!;
  assert.ok(a.links.every((l) => l.url.startsWith('http')));
});

test('bad payloads are refused with the field and the problem', () => {
  const refuse = (body: unknown, message: RegExp) =>
    assert.throws(() => parseAlertmanagerPayload(body), (e: unknown) => e instanceof PayloadError && message.test(e.message));
  refuse('a string', /body: expected a JSON object/);
  refuse({ version: '4' }, /alerts: missing; expected array/);
  refuse({ version: 4, alerts: [] }, /version: expected string, received number/);
  refuse({ version: '5', alerts: [] }, /version: expected "4".*got "5"/);
  refuse({ version: '4', alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday' }] }, /alerts\[0\]\.startsAt: expected an RFC 3339 timestamp/);
  refuse({ version: '4', alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: '2021-01-07T08:38:00Z' }] }, /alerts\[0\]\.labels\.a: expected string/);
});
