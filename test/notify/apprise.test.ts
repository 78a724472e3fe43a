/**
 * The Apprise channel against a loopback server answering as the Apprise API documents (caronc/
 * apprise-api README and api/views.py: /notify/{key}, stateless /notify, /status, /json/urls/{key};
 * 200 sent, 204 nothing configured, 424 a service failed).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { apprise } from '../../src/notify/channels/apprise/index.ts';
import { digestMessage } from '../../src/notify/digest.ts';
import { NotifyError } from '../../src/notify/notifier.ts';
import { messageFor } from '../../src/notify/render.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { testApprise, type Receiver } from '../helpers/channels.ts';
import { reportWithSeverity, resolvedReport } from '../helpers/reports.ts';

const log = createLogger({ level: 'silent' });
const servers: Receiver[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

const SAVED = { labwatch: [{ url: 'tgram://bot/chat', tags: ['homelab'] }, { url: 'discord://id/token', tags: ['family'] }] };

async function setup(block: Record<string, unknown>, secrets: Record<string, string> = {}) {
  const server = await testApprise(SAVED).start();
  servers.push(server);
  return { server, notifier: apprise.create(apprise.config.parse({ url: server.url, ...block }), secrets, { log }) };
}

test('with a key: POST /notify/{key} with title, markdown body, the type from the severity and the tags', async () => {
  const { server, notifier } = await setup({ key: 'labwatch', tags: ['homelab'] });
  for (const r of [reportWithSeverity('critical'), reportWithSeverity('warning'), reportWithSeverity('info'), resolvedReport()]) await notifier.send(messageFor(r));
  const [first] = server.requests;
  assert.equal(first!.method, 'POST');
  assert.equal(first!.path, '/notify/labwatch');
  assert.match(String(first!.headers['content-type']), /^application\/json/);
  assert.equal(first!.json.title, '[CRITICAL] ni3: This is a demo');
  assert.equal(first!.json.format, 'markdown');
  assert.deepEqual(first!.json.tag, ['homelab']);
  assert.equal(first!.json.urls, undefined, 'the services are the ones saved under the key');
  assert.match(first!.json.body, /This is a demo/);
  assert.deepEqual(server.requests.map((r) => r.json.type), ['failure', 'warning', 'info', 'success']);
});

test('without a key: stateless POST /notify carrying the URLs from urls_file', async () => {
  const { server, notifier } = await setup({ urls_file: '/unused' }, { urls_file: 'ntfys://topic, pover://user@token' });
  await notifier.send(messageFor(reportWithSeverity('warning')));
  assert.equal(server.requests[0]!.path, '/notify');
  assert.equal(server.requests[0]!.json.urls, 'ntfys://topic, pover://user@token');
  assert.equal(server.requests[0]!.json.tag, undefined);
});

test('the digest goes out as an info message', async () => {
  const { server, notifier } = await setup({ key: 'labwatch' });
  const now = '2026-12-02T08:00:00.000Z';
  await notifier.send(digestMessage({ from: '2026-12-01T08:00:00.000Z', to: now, opened: [{ id: 'inc-1', severity: 'warning', title: 'Pool tank degraded', host: 'nas', since: now }], escalated: [], stillOpen: [], resolved: [], health: [] }));
  assert.equal(server.requests[0]!.json.type, 'info');
  assert.match(server.requests[0]!.json.title, /^\[DIGEST\] 2026-12-02: 1 opened$/);
  assert.match(server.requests[0]!.json.body, /\*\*Opened\*\*\n- \\\[WARNING\\\] nas: Pool tank degraded/);
});

test('nothing saved under the key (204) and a failed service (424) are final; a 5xx is retried', async () => {
  const { server, notifier } = await setup({ key: 'no-such-key' });
  await assert.rejects(notifier.send(messageFor(reportWithSeverity('critical'))), (e: unknown) => {
    assert.ok(e instanceof NotifyError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /nothing is saved under key "no-such-key" in Apprise \(204\)/);
    return true;
  });
  server.respondNext(424, { error: 'One or more notification could not be sent', details: [['WARNING', '2026-12-02 10:00:00,000', 'a stand-in for the failing service’s log line']] });
  await assert.rejects(notifier.send(messageFor(reportWithSeverity('critical'))), (e: unknown) => {
    assert.ok(e instanceof NotifyError);
    assert.equal(e.retryable, false, 'a retry would repeat it on the services that had it');
    assert.match(e.message, /\(424: One or more notification could not be sent; a stand-in for the failing service’s log line\)/);
    return true;
  });
  server.respondNext(400, { error: 'Payload lacks minimum requirements' });
  await assert.rejects(notifier.send(messageFor(reportWithSeverity('critical'))), (e: unknown) => e instanceof NotifyError && !e.retryable && /400: Payload lacks minimum requirements/.test(e.message));
  server.respondNext(500, { error: 'An error occured accessing configuration' });
  await assert.rejects(notifier.send(messageFor(reportWithSeverity('critical'))), (e: unknown) => e instanceof NotifyError && e.retryable);
});

test('check asks /status, then lists the services under the key and tags without sending', async () => {
  const { server, notifier } = await setup({ key: 'labwatch', tags: 'homelab' });
  assert.match(String(await notifier.probe()), /key "labwatch" with tags "homelab" reaches 1 service$/);
  assert.deepEqual(server.requests.map((r) => r.path), ['/status', '/json/urls/labwatch?privacy=1&tag=homelab']);
  assert.ok(server.requests.every((r) => r.method === 'GET'), 'nothing was sent');

  const wrongTag = apprise.create(apprise.config.parse({ url: server.url, key: 'labwatch', tags: ['work'] }), {}, { log });
  await assert.rejects(wrongTag.probe(), /no service under key "labwatch" with tags \["work"\]; check notify\.apprise\.tags/);
  const wrongKey = apprise.create(apprise.config.parse({ url: server.url, key: 'other' }), {}, { log });
  await assert.rejects(wrongKey.probe(), /nothing is saved under key "other" in Apprise \(204\); save a configuration under it, or check notify\.apprise\.key/);
});

test('its block refuses a key with urls_file, and tags without a key', () => {
  const bad = (b: Record<string, unknown>) => apprise.config.safeParse({ url: 'http://a:8000', ...b }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.deepEqual(bad({ key: 'k', urls_file: '/f' }), ['urls_file: give key (a configuration saved in Apprise) or urls_file (stateless), not both']);
  assert.deepEqual(bad({ tags: ['x'] }), ['tags: tags select services saved under a key; set key too']);
});
