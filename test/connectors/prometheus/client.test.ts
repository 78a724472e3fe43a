/** PrometheusClient against a loopback server replaying real Prometheus answers. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { PrometheusClient, PrometheusError } from '../../../src/connectors/prometheus/client.ts';
import { prometheusConfig } from '../../../src/connectors/prometheus/config.ts';
import { closeServer, listenLoopback } from '../../helpers/loopback.ts';
import { fixture, freePort, Replay, ROUTES } from './replay.ts';

const TOKEN = 's3cr3t-token-7f1d';
const PASSWORD = 'hunter2-pw-93a';
let replay: Replay;

before(async () => {
  replay = await new Replay({
    ...ROUTES,
    '/api/v1/status/buildinfo': { body: '{"status":"success","data":{"version":"2.42.0+ds","revision":"r","branch":"b","buildUser":"u","buildDate":"d","goVersion":"go1.19.8"}}' },
    '/scalar/api/v1/query': { file: 'query-instant-scalar-1plus1.json' },
    '/samples/api/v1/query_range': { status: 422, file: 'error-execution-too-many-samples.json' },
    '/parse/api/v1/query': { status: 400, file: 'error-bad-data-parse-error-2.42.json' },
    '/proxy/api/v1/query': { status: 502, contentType: 'text/html', body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' },
    // a proxy that echoes the credentials it refused
    '/echo/api/v1/query': (_p, h) => ({ status: 401, contentType: 'text/html', body: `<h1>401 Unauthorized</h1> not accepted: ${h.authorization ?? 'none'}` }),
    '/warn/api/v1/query': {
      body: JSON.stringify({ ...JSON.parse(fixture('query-instant-vector-up-docs.json')), warnings: ['PromQL info: metric might not be a counter'] }),
    },
  }).start();
});
after(() => replay.close());

const client = (path = '', extra: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {}) =>
  new PrometheusClient({ url: replay.url + path, timeoutMs: 2000, ...extra });

async function rejection(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PrometheusError, `expected a PrometheusError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

test('an instant query returns the vector as Prometheus sent it, asked for by GET with the time in unix seconds', async () => {
  const r = await client().query('up', new Date('2015-07-01T20:10:51.781Z'));
  assert.equal(r.data.resultType, 'vector');
  assert.ok(r.data.resultType === 'vector');
  assert.deepEqual(r.data.result.map((s) => [s.metric.job, s.metric.instance, s.value?.[1]]), [['prometheus', 'localhost:9090', '1'], ['node', 'localhost:9100', '0']]);
  assert.deepEqual(r.warnings, []);
  const seen = replay.last('/api/v1/query')!;
  assert.equal(seen.method, 'GET');
  assert.equal(seen.params.get('query'), 'up');
  assert.equal(seen.params.get('time'), '1435781451.781');
});

test('a range query returns the matrix and sends start, end and step', async () => {
  const r = await client().queryRange('up', 1435781430.781, 1435781460.781, 15);
  assert.ok(r.data.resultType === 'matrix');
  assert.equal(r.data.result.length, 2);
  assert.deepEqual(r.data.result[1]!.values!.map((v) => v[1]), ['0', '0', '1']);
  const p = replay.last('/api/v1/query_range')!.params;
  assert.deepEqual([p.get('start'), p.get('end'), p.get('step')], ['1435781430.781', '1435781460.781', '15']);
});

test('a scalar result, targets, alerts, rules and build info parse', async () => {
  const s = await client('/scalar').query('1+1');
  assert.deepEqual(s.data, { resultType: 'scalar', result: [1685006417.116, '2'] });
  const t = await client().targets('active');
  assert.equal(t.data.activeTargets[0]!.health, 'up');
  assert.equal(t.data.activeTargets[0]!.labels.instance, '127.0.0.1:9090');
  assert.equal(t.data.droppedTargets.length, 1);
  assert.equal(replay.last('/api/v1/targets')!.params.get('state'), 'active');
  const a = await client().alerts();
  assert.deepEqual(a.data.map((x) => [x.labels.alertname, x.state, x.value]), [['my-alert', 'firing', '1e+00']]);
  const rules = await client().rules('alert');
  assert.equal(replay.last('/api/v1/rules')!.params.get('type'), 'alert');
  assert.equal(rules.data[0]!.rules.find((r) => r.health === 'err')?.lastError, 'vector contains metrics with the same labelset after applying rule labels');
  assert.equal((await client().buildinfo()).data.version, '2.42.0+ds');
});

test("Prometheus' warnings are kept on the result", async () => {
  const r = await client('/warn').query('up');
  assert.deepEqual(r.warnings, ['PromQL info: metric might not be a counter']);
});

test('a long expression is POSTed form-encoded and arrives whole', async () => {
  const expr = `up{instance=~"${Array.from({ length: 300 }, (_, i) => `host${i}:9100`).join('|')}"}`;
  assert.ok(expr.length > 2000);
  await client().query(expr);
  const seen = replay.last('/api/v1/query')!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(seen.params.get('query'), expr);
});

test("Prometheus' error envelope becomes a query error naming the query, the errorType and Prometheus' message", async () => {
  const e = await rejection(client('/samples').queryRange('rate(node_cpu_seconds_total[5m])', 0, 86400 * 30, 1));
  assert.equal(e.kind, 'query');
  assert.equal(e.details.errorType, 'execution');
  assert.equal(e.details.status, 422);
  assert.equal(
    e.message,
    'prometheus rejected the query `rate(node_cpu_seconds_total[5m])`: execution: query processing would load too many samples into memory in query execution',
  );
  const p = await rejection(client('/parse').query('rate(up[5m)'));
  assert.match(p.message, /^prometheus rejected the query `rate\(up\[5m\)`: bad_data: invalid parameter "query": 1:11: parse error/);
});

test('a closed port is "unreachable", naming the URL and what to check', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const e = await rejection(new PrometheusClient({ url, timeoutMs: 2000 }).query('up'));
  assert.equal(e.kind, 'unreachable');
  assert.match(e.message, new RegExp(`cannot reach Prometheus at ${url}/api/v1/query: connection refused.*prometheus\\.url`));
});

test('a server that never answers is a "timeout" within the timeout', async () => {
  const silent = createServer(() => {});
  const url = await listenLoopback(silent);
  try {
    const started = Date.now();
    const e = await rejection(new PrometheusClient({ url, timeoutMs: 300 }).query('up'));
    assert.equal(e.kind, 'timeout');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.match(e.message, /did not answer within 0\.3 s/);
    // the caller's own deadline counts too
    const e2 = await rejection(new PrometheusClient({ url, timeoutMs: 10_000 }).labels({ signal: AbortSignal.timeout(200) }));
    assert.equal(e2.kind, 'timeout');
  } finally {
    await closeServer(silent);
  }
});

test("a proxy's HTML 502 is a bad_response that says so", async () => {
  const e = await rejection(client('/proxy').query('up'));
  assert.equal(e.kind, 'bad_response');
  assert.equal(e.details.status, 502);
  assert.match(e.message, /answered HTTP 502 text\/html, not Prometheus JSON \("502 Bad Gateway 502 Bad Gateway nginx"\)/);
  const notFound = await rejection(client('/wrong-prefix').query('up'));
  assert.equal(notFound.kind, 'bad_response');
  assert.match(notFound.message, /HTTP 404.*route-prefix/);
});

test('a body over the cap is refused with a message saying so', async () => {
  const e = await rejection(client('', { maxBodyBytes: 200 }).query('up'));
  assert.equal(e.kind, 'bad_response');
  assert.match(e.message, /larger than 200 bytes and was not read: narrow the query/);
});

test('the bearer token and basic auth arrive as configured, and never appear in an error message', async () => {
  await client('', { bearerToken: TOKEN }).labels().catch(() => undefined);
  assert.equal(replay.last('/api/v1/labels')?.headers.authorization, `Bearer ${TOKEN}`);
  await client('', { basicAuth: { username: 'lab', password: PASSWORD } }).query('up');
  assert.equal(replay.last('/api/v1/query')!.headers.authorization, `Basic ${Buffer.from(`lab:${PASSWORD}`).toString('base64')}`);
  // credentials in the URL become basic auth (fetch would refuse them) and stay out of messages
  const inUrl = new PrometheusClient({ url: replay.url.replace('://', `://lab:${PASSWORD}@`) + '/echo', timeoutMs: 2000 });
  assert.ok(!inUrl.baseUrl.includes(PASSWORD));

  const port = await freePort();
  const messages = [
    (await rejection(client('/echo', { bearerToken: TOKEN }).query('up'))).message,
    (await rejection(client('/echo', { basicAuth: { username: 'lab', password: PASSWORD } }).query('up'))).message,
    (await rejection(inUrl.query('up'))).message,
    (await rejection(client('/samples', { bearerToken: TOKEN }).queryRange('up', 0, 1, 1))).message,
    (await rejection(new PrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 500, bearerToken: TOKEN }).query('up'))).message,
  ];
  assert.match(messages[0]!, /HTTP 401.*bearer_token_file/);
  for (const m of messages) {
    assert.ok(!m.includes(TOKEN), `token leaked: ${m}`);
    assert.ok(!m.includes(PASSWORD), `password leaked: ${m}`);
    assert.ok(!m.includes(Buffer.from(`lab:${PASSWORD}`).toString('base64')), `encoded credentials leaked: ${m}`);
  }
});

test('the config block takes defaults and refuses what the client cannot use', () => {
  const c = prometheusConfig.parse({ url: 'http://127.0.0.1:9090' });
  assert.deepEqual(c, { url: 'http://127.0.0.1:9090', timeout: '10s', max_series: 50, max_points: 500 });
  assert.ok(prometheusConfig.safeParse({ url: 'https://lab.example/prometheus', timeout: '30s', basic_auth: { username: 'u', password_file: '/etc/pw' } }).success);
  for (const bad of [
    { url: '127.0.0.1:9090' },
    { url: 'ftp://x' },
    { url: 'http://x', timeout: '10' },
    { url: 'http://x', max_series: 1.5 },
    { url: 'http://x', token: 'inline' },
    { url: 'http://x', bearer_token_file: '/a', basic_auth: { username: 'u', password_file: '/b' } },
  ])
    assert.equal(prometheusConfig.safeParse(bad).success, false, JSON.stringify(bad));
});
