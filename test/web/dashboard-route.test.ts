/**
 * How the daemon serves the built page (src/http/routes/dashboard.ts): the shell revalidated each
 * time, hashed assets cached for a year, precompressed as the browser accepts, under a strict CSP,
 * and a clear 503 when nobody ran the build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { dashboard } from '../../src/http/routes/dashboard.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';

const JS = 'console.log("labwatch");'.repeat(40);
const INDEX = '<!doctype html><title>labwatch</title><script type="module" src="assets/main-ABC123.js"></script>';

/** A dist/web as scripts/build.js leaves it: index.html and one asset, each with .br and .gz beside it. */
function builtDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-web-'));
  mkdirSync(join(dir, 'assets'));
  for (const [path, text] of [['index.html', INDEX], ['assets/main-ABC123.js', JS]] as const) {
    writeFileSync(join(dir, path), text);
    writeFileSync(join(dir, `${path}.br`), brotliCompressSync(text));
    writeFileSync(join(dir, `${path}.gz`), gzipSync(text));
  }
  return dir;
}

function server(dashboardDir: string) {
  return buildHttpServer(
    { metrics: new Metrics(), log: createLogger({ destination: { write() {} } }), token: 'lw-dash-token', bodyLimit: 1 << 20, listenHost: '127.0.0.1', dashboardDir },
    [dashboard],
  );
}

test('the page is served to anyone (it carries no data), revalidated on every visit, under a strict CSP', async (t) => {
  const dir = builtDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = server(dir);
  const res = await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'identity' } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, INDEX);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.equal(
    res.headers['content-security-policy'],
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  );
  const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(res.headers.etag) } });
  assert.equal(again.statusCode, 304, 'an unchanged page is not sent again');
});

test('assets are cached for a year and sent precompressed: br when accepted, else gzip, else as built', async (t) => {
  const dir = builtDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = server(dir);
  const get = (encoding: string) => app.inject({ method: 'GET', url: '/assets/main-ABC123.js', headers: { 'accept-encoding': encoding } });

  const br = await get('gzip, deflate, br');
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(brotliDecompressSync(br.rawPayload).toString(), JS);
  assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');

  const gz = await get('gzip;q=1.0, br;q=0');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(gz.rawPayload).toString(), JS);

  const plain = await get('identity');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body, JS);
});

test('only files the build wrote are served: other names and paths are 404', async (t) => {
  const dir = builtDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = server(dir);
  for (const url of ['/assets/main-OLD999.js', '/assets/..%2Findex.html', '/assets/main-ABC123.js.br', '/assets/%2E%2E%2F%2E%2E%2Fpackage.json']) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
  }
});

test('without a build, the page says how to make one (503), and appears once it is built, without a restart', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'labwatch-web-')), 'web');
  t.after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const app = server(dir);
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /^the dashboard is not built: run npm run build/);
  assert.equal(res.headers['cache-control'], 'no-store');

  const built = builtDir();
  t.after(() => rmSync(built, { recursive: true, force: true }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(built, dir);
  assert.equal((await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'identity' } })).body, INDEX);
});
