/**
 * The seam for new HTTP routes (the dashboard, `/api/*`): a route module added to the list is
 * served behind the same token and Host/Origin checks as /mcp without writing any of them, and a
 * refused caller never reaches the module's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../src/http/server.ts';
import { ROUTES } from '../../src/http/routes/index.ts';
import type { RouteModule } from '../../src/http/route.ts';
import type { Intake } from '../../src/incidents/intake.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';

const TOKEN = 'lw-routes-token-7c1e';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A server with the daemon's modules plus an `api` module, bound to loopback with a token; what the api's handlers saw and what was logged. */
function serverWithApi() {
  const calls: string[] = [];
  const logs: string[] = [];
  const api: RouteModule<{ incidentCount: () => number }> = {
    name: 'api',
    register(app, deps) {
      // No access declared: a new route gets the strictest checks unless it opts out.
      app.get('/api/incidents', async () => {
        calls.push('incidents');
        return { open: deps.incidentCount() };
      });
      app.get('/api/version', { config: { access: 'public' } }, async () => ({ version: 'test' }));
    },
  };
  const app = buildHttpServer(
    {
      intakes: [],
      intake: {} as Intake, // no webhook intakes, so never called
      metrics: new Metrics(),
      log: createLogger({ destination: { write: (l) => void logs.push(l) } }),
      token: TOKEN,
      bodyLimit: 1 << 20,
      listenHost: '127.0.0.1',
      allowedHosts: ['labwatch.example.net'],
      mcp: async (_req, res) => {
        calls.push('mcp');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      readiness: {},
      incidentCount: () => 3,
    },
    [...ROUTES, api],
  );
  return { app, calls, logs };
}

async function status(app: FastifyInstance, method: 'GET' | 'POST', url: string, headers: Record<string, string>) {
  const res = await app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { payload: '{}' } : {}) });
  return { status: res.statusCode, json: res.json<Record<string, unknown>>(), headers: res.headers };
}

test('an added route module answers a caller with the token on a loopback name', async () => {
  const { app, calls } = serverWithApi();
  const res = await status(app, 'GET', '/api/incidents', { ...auth, host: '127.0.0.1:9877' });
  assert.equal(res.status, 200);
  assert.deepEqual(calls, ['incidents']);
  await app.close();
});

test("without the token an added route is refused 401 as /mcp is, logged under the module's name, its code never run", async () => {
  const { app, calls, logs } = serverWithApi();
  for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
    const api = await status(app, 'GET', '/api/incidents', headers);
    const mcp = await status(app, 'POST', '/mcp', headers);
    assert.equal(api.status, 401);
    assert.equal(mcp.status, 401);
    assert.equal(api.headers['www-authenticate'], mcp.headers['www-authenticate']);
    assert.deepEqual(api.json, mcp.json);
  }
  assert.deepEqual(calls, []);
  assert.ok(logs.some((l) => l.includes('api refused: missing or wrong bearer token')), logs.join(''));
  await app.close();
});

test('a foreign Host or Origin is refused 403 on an added route as on /mcp (DNS rebinding)', async () => {
  const { app, calls } = serverWithApi();
  for (const headers of [{ host: 'evil.example:9877' }, { host: 'localhost.' }, { origin: 'https://evil.example' }, { origin: 'null' }] as Record<string, string>[]) {
    const api = await status(app, 'GET', '/api/incidents', { ...auth, ...headers });
    const mcp = await status(app, 'POST', '/mcp', { ...auth, ...headers });
    assert.equal(api.status, 403, JSON.stringify(headers));
    assert.equal(mcp.status, 403, JSON.stringify(headers));
    assert.equal(api.json.header, mcp.json.header);
    assert.match(String(api.json.error), /is not allowed for \/api\/incidents$/);
    assert.match(String(api.json.hint), /notify\.public_url/);
  }
  assert.deepEqual(calls, []);
  const publicHost = await status(app, 'GET', '/api/incidents', { ...auth, host: 'labwatch.example.net', origin: 'https://labwatch.example.net' });
  assert.equal(publicHost.status, 200, 'the host of notify.public_url is let in');
  await app.close();
});

test("a route that declares itself public is served without the token, as /healthz is", async () => {
  const { app } = serverWithApi();
  assert.equal((await status(app, 'GET', '/api/version', { host: 'evil.example' })).status, 200);
  assert.equal((await status(app, 'GET', '/healthz', { host: 'evil.example' })).status, 200);
  await app.close();
});
