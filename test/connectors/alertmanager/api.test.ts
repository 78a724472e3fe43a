/** The Alertmanager API client against a loopback server replaying real Alertmanager answers. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AlertmanagerApi, AlertmanagerError } from '../../../src/connectors/alertmanager/api.ts';
import { closeServer, listenLoopback } from '../../helpers/loopback.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { readFixture } from '../../helpers/fixtures.ts';

const fixture = (name: string) => readFixture('alertmanager', name);

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server answering every request with `answer`; records what it was sent. */
async function replay(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(req, res);
    });
  });
  const url = await listenLoopback(server);
  after(() => closeServer(server));
  return { url, seen };
}

const json = (status: number, body: string) => (_q: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

async function rejection(p: Promise<unknown>): Promise<AlertmanagerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AlertmanagerError, `expected an AlertmanagerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

test('the published GET /api/v2/alerts answer parses: one active alert with its labels, summary and receivers', async () => {
  const am = await replay(json(200, fixture('api-v2-alerts-one-active.json')));
  const alerts = await new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).alerts({ active: true, silenced: false, filter: ['instance="randomina.lan:9100"', 'job=~"no.*"'] });
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.labels.alertname, 'InstanceDown');
  assert.equal(a.labels.instance, 'randomina.lan:9100');
  assert.equal(a.annotations.summary, 'Endpoint randomina.lan:9100 down');
  assert.equal(a.status.state, 'active');
  assert.deepEqual(a.status.silencedBy, []);
  assert.deepEqual(a.receivers.map((r) => r.name), ['devs', 'monitoring']);
  assert.equal(a.fingerprint, '0593f1c55738ce93');
  const q = new URL(am.seen[0]!.url, 'http://x');
  assert.equal(q.pathname, '/api/v2/alerts');
  assert.equal(q.searchParams.get('active'), 'true');
  assert.equal(q.searchParams.get('silenced'), 'false');
  assert.equal(q.searchParams.has('inhibited'), false, 'unset flags keep Alertmanager’s default');
  assert.deepEqual(q.searchParams.getAll('filter'), ['instance="randomina.lan:9100"', 'job=~"no.*"']);
});

test("Alertmanager 0.25's answer: a silenced alert is 'suppressed' with the silence id in silencedBy", async () => {
  const am = await replay(json(200, fixture('api-v2-alerts-silenced-and-active-am0.25.json')));
  const alerts = await new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).alerts();
  const disk = alerts.find((a) => a.labels.alertname === 'DiskFull')!;
  assert.equal(disk.status.state, 'suppressed');
  assert.deepEqual(disk.status.silencedBy, ['03a99674-6b48-45fb-9417-8ab749b9edc1']);
  assert.equal(alerts.find((a) => a.labels.alertname === 'NodeDown')!.status.state, 'active');
});

test('fields from newer Alertmanager versions are accepted', async () => {
  const a = JSON.parse(fixture('api-v2-alerts-one-active.json')) as Record<string, unknown>[];
  a[0]!.somethingNew = { x: 1 };
  (a[0]!.status as Record<string, unknown>).mutedBy = [];
  const am = await replay(json(200, JSON.stringify(a)));
  assert.equal((await new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).alerts()).length, 1);
});

test("status from 0.25: version and cluster state, and never Alertmanager's own configuration", async () => {
  const am = await replay(json(200, fixture('api-v2-status-am0.25.json')));
  const s = await new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).status();
  assert.equal(s.versionInfo.version, '0.25.0');
  assert.equal(s.cluster.status, 'disabled');
  assert.deepEqual(s.cluster.peers, []);
  assert.equal(s.uptime, '2026-11-24T19:53:59.083Z');
  assert.ok(!('config' in s), 'config.original (the whole alertmanager.yml) is dropped');
});

test('silences from 0.25 and a created silence: the POST body carries the matchers, the answer its id', async () => {
  const am = await replay((req, res) =>
    req.method === 'POST' ? json(200, '{"silenceID":"c523b33a-f9ab-4098-ab66-40a5b72fef97"}\n')(req, res) : json(200, fixture('api-v2-silences-one-active-am0.25.json'))(req, res),
  );
  const api = new AlertmanagerApi({ url: am.url, timeoutMs: 2000 });
  const [s] = await api.silences(['alertname="DiskFull"']);
  assert.equal(s!.comment, 'replacing the disk');
  assert.equal(s!.status.state, 'active');
  assert.deepEqual(s!.matchers, [{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }]);
  const id = await api.createSilence({
    matchers: [{ name: 'instance', value: 'nas:9100', isRegex: false, isEqual: true }],
    startsAt: '2026-11-24T20:00:00.000Z',
    endsAt: '2026-11-24T22:00:00.000Z',
    createdBy: 'labwatch',
    comment: 'disk swap',
  });
  assert.equal(id, 'c523b33a-f9ab-4098-ab66-40a5b72fef97');
  const post = am.seen[1]!;
  assert.equal(post.method, 'POST');
  assert.equal(post.url, '/api/v2/silences');
  assert.equal(post.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(post.body).matchers, [{ name: 'instance', value: 'nas:9100', isRegex: false, isEqual: true }]);
});

test('a route prefix in the URL is kept', async () => {
  const am = await replay(json(200, '[]'));
  await new AlertmanagerApi({ url: `${am.url}/alertmanager`, timeoutMs: 2000 }).silences();
  assert.equal(am.seen[0]!.url, '/alertmanager/api/v2/silences');
});

test('503: a "server" error naming the path, the status and the start of the body', async () => {
  const am = await replay((_q, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('upstream connect error or disconnect/reset before headers');
  });
  const e = await rejection(new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).alerts());
  assert.equal(e.kind, 'server');
  assert.equal(e.status, 503);
  assert.match(e.message, /\/api\/v2\/alerts/);
  assert.match(e.message, /503 Service Unavailable: upstream connect error/);
});

test('a refused port: "unreachable", saying the connection was refused and what to check', async () => {
  const port = await freePort();
  const e = await rejection(new AlertmanagerApi({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 }).status());
  assert.equal(e.kind, 'unreachable');
  assert.match(e.message, /connection refused/);
  assert.match(e.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/api/v2/status`));
  assert.match(e.message, /alertmanager\.url/);
});

test('a server that never answers: "timeout" after timeoutMs, not after fetch’s own minutes', async () => {
  const am = await replay(() => {}); // reads the request, never answers
  const t0 = Date.now();
  const e = await rejection(new AlertmanagerApi({ url: am.url, timeoutMs: 300 }).alerts());
  assert.equal(e.kind, 'timeout');
  assert.match(e.message, /no answer within 300 ms/);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

test('a bearer token and basic auth are sent as Authorization headers, and never appear in a message', async () => {
  const am = await replay(json(401, '"unauthorized"'));
  const token = 'test-bearer-not-a-real-token';
  const e = await rejection(new AlertmanagerApi({ url: am.url, timeoutMs: 2000, bearerToken: token }).alerts());
  assert.equal(am.seen[0]!.headers.authorization, `Bearer ${token}`);
  assert.equal(e.kind, 'bad_request');
  assert.match(e.message, /401/);
  assert.match(e.message, /bearer_token_file or basic_auth/);
  assert.ok(!e.message.includes(token));

  const e2 = await rejection(new AlertmanagerApi({ url: am.url, timeoutMs: 2000, basicAuth: { username: 'labwatch', password: 'test-password-1' } }).alerts());
  assert.equal(am.seen[1]!.headers.authorization, `Basic ${Buffer.from('labwatch:test-password-1').toString('base64')}`);
  assert.ok(!e2.message.includes('test-password-1') && !e2.message.includes(Buffer.from('labwatch:test-password-1').toString('base64')));
});

test("400 from 0.25: Alertmanager's own error text reaches the message", async () => {
  const am = await replay(json(400, fixture('api-v2-silences-post-400-match-all-am0.25.json')));
  const e = await rejection(
    new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).createSilence({
      matchers: [{ name: 'a', value: '.*', isRegex: true, isEqual: true }],
      startsAt: '2026-11-24T20:00:00Z',
      endsAt: '2026-11-24T21:00:00Z',
      createdBy: 'labwatch',
      comment: 'x',
    }),
  );
  assert.equal(e.kind, 'bad_request');
  assert.match(e.message, /POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/silences: 400 Bad Request: silence invalid: at least one matcher must not match the empty string/);
});

test('422 with {code, message} (go-swagger validation) gives the message text', async () => {
  const am = await replay(json(422, '{"code":612,"message":"matchers in body should have at least 1 items"}'));
  const e = await rejection(new AlertmanagerApi({ url: am.url, timeoutMs: 2000 }).silences());
  assert.equal(e.kind, 'bad_request');
  assert.match(e.message, /422 Unprocessable Entity: matchers in body should have at least 1 items/);
});

test('a 200 that is not JSON (a login page) or not the expected shape: "bad_response"', async () => {
  const html = await replay((_q, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Please sign in</body></html>');
  });
  const e = await rejection(new AlertmanagerApi({ url: html.url, timeoutMs: 2000 }).alerts());
  assert.equal(e.kind, 'bad_response');
  assert.match(e.message, /not JSON \(<html><body>Please sign in/);

  const shape = await replay(json(200, '{"status":"success","data":[]}')); // API v1's envelope
  const e2 = await rejection(new AlertmanagerApi({ url: shape.url, timeoutMs: 2000 }).alerts());
  assert.equal(e2.kind, 'bad_response');
  assert.match(e2.message, /unexpected answer/);
});
