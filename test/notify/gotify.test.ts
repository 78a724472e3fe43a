/**
 * The Gotify channel against a loopback server answering as Gotify's REST API documents
 * (gotify/server docs/spec.json: POST /message with an application token; GET /health).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { gotify } from '../../src/notify/channels/gotify/index.ts';
import { NotifyError } from '../../src/notify/notifier.ts';
import { messageFor } from '../../src/notify/render.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { testGotify, type Receiver } from '../helpers/channels.ts';
import { freePort } from '../helpers/redis-server.ts';
import { reportOn, reportWithSeverity, resolvedReport } from '../helpers/reports.ts';

const TOKEN = 'AWH0wZ5r0Mbac.r';
const log = createLogger({ level: 'silent' });
const servers: Receiver[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function setup(token = TOKEN) {
  const server = await testGotify(TOKEN).start();
  servers.push(server);
  const block = gotify.config.parse({ url: `${server.url}/`, token_file: '/unused' });
  return { server, notifier: gotify.create(block, { token_file: token }, { log }) };
}

test('a report arrives as one markdown message with the app token, the subject as title and a click to the report', async () => {
  const { server, notifier } = await setup();
  const id = await notifier.send(messageFor(reportOn(), 'http://labwatch.lan:9877'));
  assert.equal(id, '1', "Gotify's message id");
  const [req] = server.requests;
  assert.equal(req!.method, 'POST');
  assert.equal(req!.path, '/message');
  assert.equal(req!.headers['x-gotify-key'], TOKEN);
  assert.match(String(req!.headers['content-type']), /^application\/json/);
  assert.equal(req!.json.title, '[CRITICAL] ni3: This is a demo');
  assert.equal(req!.json.priority, 8);
  assert.deepEqual(req!.json.extras['client::display'], { contentType: 'text/markdown' });
  assert.match(req!.json.extras['client::notification'].click.url, /^http:\/\/labwatch\.lan:9877\/incidents\/inc-/);
  assert.match(req!.json.message, /^Firing since 2021\\-01\\-07 08:38:00 UTC\n\nThis is a demo/m, 'markdown, alert text escaped');
  assert.match(req!.json.message, /\*\*What to do\*\*/);
});

test('priority follows the severity on Gotify’s scale: critical 8, warning 5, info 2, resolved 2', async () => {
  const { server, notifier } = await setup();
  for (const r of [reportWithSeverity('critical'), reportWithSeverity('warning'), reportWithSeverity('info'), resolvedReport()]) await notifier.send(messageFor(r));
  assert.deepEqual(server.requests.map((r) => r.json.priority), [8, 5, 2, 2]);
});

test('markdown in alert text is escaped: no image fetched, no link of its own', async () => {
  const { server, notifier } = await setup();
  const r = reportOn();
  r.summary = 'Disk full ![x](http://evil/pixel.png) [click](http://evil)';
  await notifier.send(messageFor(r));
  const body = server.requests[0]!.json.message as string;
  assert.ok(!body.includes('![x](http'), 'no image markup survives');
  // The URL itself is kept byte for byte (a working link in plain-text clients); the markup around it is escaped.
  assert.ok(body.includes('\\!\\[x\\]\\(http://evil/pixel.png\\)'), body);
});

test('a 5xx is worth a retry; a wrong token (401) is not, and the error says which key to fix', async () => {
  const { server, notifier } = await setup();
  server.respondNext(502, { error: 'Bad Gateway', errorCode: 502, errorDescription: 'upstream down' });
  await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && e.retryable && /answered 502: Bad Gateway: upstream down/.test(e.message));

  const wrong = (await setup('not-the-token')).notifier;
  await assert.rejects(wrong.send(messageFor(reportOn())), (e: unknown) => {
    assert.ok(e instanceof NotifyError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /^notify\/gotify: http:\/\/127\.0\.0\.1:\d+\/message refused our credentials \(401: Unauthorized: you need to provide a valid access token/);
    assert.match(e.message, /check notify\.gotify\.token_file/);
    return true;
  });
  server.respondNext(400, { error: 'Bad Request', errorCode: 400, errorDescription: 'Field message is required' });
  await assert.rejects(notifier.send(messageFor(reportOn())), (e: unknown) => e instanceof NotifyError && !e.retryable && /400: Bad Request: Field message is required/.test(e.message));
});

test('check asks /health and says the token is only checked by sending; a down server fails it', async () => {
  const { server, notifier } = await setup();
  assert.match(String(await notifier.probe()), /^Gotify at http:\/\/127\.0\.0\.1:\d+ is green; its app token is only checked by sending/);
  assert.equal(server.requests.at(-1)!.path, '/health');
  server.respondNext(500, { health: 'orange', database: 'red' });
  await assert.rejects(notifier.probe(), /answered 500: health orange, database red/);
  const nobody = gotify.create(gotify.config.parse({ url: `http://127.0.0.1:${await freePort()}`, token_file: '/unused' }), { token_file: TOKEN }, { log });
  await assert.rejects(nobody.probe(), /connection refused; is the Gotify server up, and notify\.gotify\.url right\?/);
});

test('its block needs a URL and a token file; the token env var is LABWATCH_GOTIFY_TOKEN', () => {
  assert.equal(gotify.config.safeParse({ url: 'http://g' }).success, false);
  assert.deepEqual(gotify.secrets, [{ file: 'token_file', env: 'LABWATCH_GOTIFY_TOKEN' }]);
});
