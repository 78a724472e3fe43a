import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { DEFAULT_ROUTES, route, routeSchema, type Route } from '../../src/notify/routes.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

function incident(severity: string, labels: Record<string, string> = {}) {
  const body = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string> }[] };
  body.alerts[0]!.labels = { ...body.alerts[0]!.labels, severity, ...labels };
  return mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(body)), '2026-11-24T10:00:00Z')!.incident;
}
const both = ['email', 'ntfy'];
const asObject = (m: Map<string, string>) => Object.fromEntries(m);

test('default routes: critical at once everywhere; warning ntfy at once, email in the digest; info digest only', () => {
  assert.deepEqual(asObject(route(incident('critical'), DEFAULT_ROUTES, both)), { email: 'immediate', ntfy: 'immediate' });
  assert.deepEqual(asObject(route(incident('warning'), DEFAULT_ROUTES, both)), { ntfy: 'immediate', email: 'digest' });
  assert.deepEqual(asObject(route(incident('info'), DEFAULT_ROUTES, both)), { email: 'digest', ntfy: 'digest' });
});

test('only configured channels are used; with none, everything goes to the log at once', () => {
  assert.deepEqual(asObject(route(incident('critical'), DEFAULT_ROUTES, ['ntfy'])), { ntfy: 'immediate' });
  assert.deepEqual(asObject(route(incident('info'), DEFAULT_ROUTES, ['log'])), { log: 'immediate' });
});

test('first match wins; continue lets later routes add channels; immediate beats digest for the same channel', () => {
  const routes: Route[] = [
    { match: { labels: { team: 'storage' } }, channels: ['ntfy'], mode: 'immediate', continue: true },
    { match: { severity: ['warning', 'critical'] }, channels: ['email'], mode: 'digest', continue: false },
    { match: {}, channels: ['email', 'ntfy'], mode: 'immediate', continue: false },
  ];
  assert.deepEqual(asObject(route(incident('warning', { team: 'storage' }), routes, both)), { ntfy: 'immediate', email: 'digest' });
  assert.deepEqual(asObject(route(incident('warning'), routes, both)), { email: 'digest' }, 'no label: the second route matches and stops');
  assert.deepEqual(asObject(route(incident('info'), routes, both)), { email: 'immediate', ntfy: 'immediate' }, 'falls through to the catch-all');
  const twice: Route[] = [
    { match: {}, channels: ['email'], mode: 'digest', continue: true },
    { match: {}, channels: ['email'], mode: 'immediate', continue: false },
  ];
  assert.deepEqual(asObject(route(incident('info'), twice, both)), { email: 'immediate' });
});

test('a route in config is validated: channels required, mode one of immediate|digest', () => {
  assert.equal(routeSchema.safeParse({ match: { severity: 'critical' }, channels: [] }).success, false);
  assert.equal(routeSchema.safeParse({ channels: ['email'], mode: 'later' }).success, false);
  assert.deepEqual(routeSchema.parse({ channels: ['email'] }), { match: {}, channels: ['email'], mode: 'immediate', continue: false });
});
