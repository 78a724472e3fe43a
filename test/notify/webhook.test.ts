/** The webhook channel against a loopback receiver: the documented JSON body, secret headers, retries. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNotifiers } from '../../src/notify/channels/index.ts';
import { webhook } from '../../src/notify/channels/webhook/index.ts';
import { digestMessage } from '../../src/notify/digest.ts';
import { NotifyError } from '../../src/notify/notifier.ts';
import { messageFor } from '../../src/notify/render.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Receiver, testWebhook } from '../helpers/channels.ts';
import { reportOn, resolvedReport } from '../helpers/reports.ts';

const log = createLogger({ level: 'silent' });
const servers: Receiver[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function setup(block: Record<string, unknown> = {}, secrets: Record<string, string> = {}) {
  const server = await testWebhook().start();
  servers.push(server);
  return { server, notifier: webhook.create(webhook.config.parse({ url: `${server.url}/hook/labwatch`, ...block }), secrets, { log }) };
}

test('a report is POSTed as the documented JSON: incident, revision, kind, severity, host, title, summary, facts, actions, labels, links, producer', async () => {
  const { server, notifier } = await setup();
  const report = reportOn();
  await notifier.send(messageFor(report, 'http://labwatch.lan:9877'));
  const req = server.requests[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/hook/labwatch');
  assert.match(String(req.headers['content-type']), /^application\/json/);
  assert.equal(req.headers['x-labwatch-incident'], report.incidentId);
  const b = req.json;
  assert.equal(b.version, 1);
  assert.equal(b.key, `${report.incidentId}.r1`);
  assert.equal(b.kind, 'opened');
  assert.equal(b.incident_id, report.incidentId);
  assert.equal(b.revision, 1);
  assert.equal(b.severity, 'critical');
  assert.equal(b.status, 'firing');
  assert.equal(b.host, 'ni3');
  assert.equal(b.title, 'This is a demo');
  assert.equal(b.summary, report.summary);
  assert.deepEqual(b.facts, report.facts.map((f) => ({ text: f.text, ...(f.source ? { source: f.source } : {}) })));
  assert.deepEqual(b.actions, report.actions.map((a) => ({ text: a.text, ...(a.urgency ? { urgency: a.urgency } : {}) })));
  assert.deepEqual(b.labels, { alertname: 'DemoAlert', server: 'ni3', severity: 'critical' });
  assert.deepEqual(b.links, report.links.map((l) => ({ title: l.title, url: l.url })));
  assert.equal(b.producer, 'deterministic');
  assert.equal(b.url, `http://labwatch.lan:9877/incidents/${report.incidentId}`);
  assert.equal(b.subject, '[CRITICAL] ni3: This is a demo');
  assert.match(b.text, /^CRITICAL · ni3 · This is a demo$/m);
});

test('a resolution says kind resolved and status resolved; the digest is kind digest with its sections', async () => {
  const { server, notifier } = await setup();
  await notifier.send(messageFor(resolvedReport()));
  assert.equal(server.requests[0]!.json.kind, 'resolved');
  assert.equal(server.requests[0]!.json.status, 'resolved');
  assert.ok(server.requests[0]!.json.resolved_at);
  const at = '2026-12-02T08:00:00.000Z';
  await notifier.send(digestMessage({ from: '2026-12-01T08:00:00.000Z', to: at, opened: [], escalated: [], stillOpen: [{ id: 'inc-1', severity: 'warning', title: 'Pool tank degraded', host: 'nas', since: at }], resolved: [], health: [{ subject: 'pool:tank', source: 'zfs', kind: 'pool', host: 'nas', at, summary: 'DEGRADED', arrow: '→' }] }));
  const d = server.requests[1]!.json;
  assert.equal(d.kind, 'digest');
  assert.deepEqual(d.still_open, [{ id: 'inc-1', severity: 'warning', title: 'Pool tank degraded', host: 'nas', since: at }]);
  assert.deepEqual(d.health, [{ kind: 'pool', subject: 'pool:tank', host: 'nas', summary: 'DEGRADED', arrow: '→' }]);
});

test('secret headers come from headers_files, read by the loader; one that was not read stops the channel, not the daemon', async () => {
  const { server, notifier } = await setup({ headers_files: { Authorization: '/etc/labwatch/hook-auth' } }, { 'headers_files.Authorization': 'Bearer s3cret-hook' });
  await notifier.send(messageFor(reportOn()));
  assert.equal(server.requests[0]!.headers.authorization, 'Bearer s3cret-hook');

  const logs: string[] = [];
  const notifiers = buildNotifiers(
    { notify: { webhook: webhook.config.parse({ url: server.url, headers_files: { 'X-Api-Key': '/etc/labwatch/key' } }) }, secrets: {} },
    createLogger({ level: 'error', destination: { write: (l: string) => void logs.push(l) } }),
  );
  await assert.rejects(notifiers.get('webhook')!.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && !e.retryable && /headers_files\.X-Api-Key: its file was not read/.test(e.message));
  assert.ok(logs.some((l) => l.includes('notification channel could not be set up')));
  assert.equal(server.requests.length, 1, 'nothing sent without its header');
});

test('5xx, 429 and 408 are retried; 400, 401 and a redirect are final, with the receiver’s words', async () => {
  const { server, notifier } = await setup();
  for (const status of [500, 503, 429, 408]) {
    server.respondNext(status, { message: `status ${status}` });
    await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && e.retryable, `${status} is retried`);
  }
  server.respondNext(401, { message: 'Invalid token' });
  await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && !e.retryable && /refused our credentials \(401: Invalid token\); check notify\.webhook\.headers_files/.test(e.message));
  server.respondNext(400, { detail: 'bad payload' });
  await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && !e.retryable && /answered 400: bad payload/.test(e.message));
  server.respondNext(301);
  await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && !e.retryable && /answered 301/.test(e.message));
});

test('check does not send to a webhook, and says so', async () => {
  const { server, notifier } = await setup();
  assert.match(String(await notifier.probe()), /not checked, as any request would act on it; labwatch notify test --channel webhook sends a test message/);
  assert.equal(server.requests.length, 0);
});
