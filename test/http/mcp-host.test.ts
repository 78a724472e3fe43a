/**
 * DNS rebinding on /mcp: a daemon bound to loopback answers only loopback names and the
 * configured public host in `Host` and `Origin`, matched exactly (never by prefix or suffix).
 * Real HTTP requests, with the right token, against a whole daemon.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';

let lab: Lab;
let port: string;
before(async () => {
  lab = await startLab({ notifyExtra: { public_url: 'https://labwatch.example.net/' } });
  port = new URL(lab.url).port;
});
after(async () => {
  await lab.stop();
});

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

/** POST /mcp with the token and these headers (Host set verbatim); the status and the JSON body. */
function post(headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${SECRETS.httpToken}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(initialize);
  });
}

async function assertRefused(header: 'Host' | 'Origin', value: string, extra: Record<string, string> = {}) {
  const { status, json } = await post({ ...extra, [header]: value });
  assert.equal(status, 403, `${header}: ${value} must be refused`);
  assert.equal(json.header, header, `${header}: ${value}: the answer names the refused header`);
  assert.ok(String(json.error).includes(header) && String(json.error).includes(value), `${header}: ${value}: ${String(json.error)}`);
  assert.match(String(json.hint), /notify\.public_url/, `${header}: ${value}: the hint says what to configure`);
}

test('Host names that only start or end like loopback are refused (403 naming the header)', async () => {
  for (const host of [
    '127.evil.example',
    `127.evil.example:${port}`,
    '127.0.0.1.nip.io',
    `127.0.0.1.nip.io:${port}`,
    'localhost.evil.example',
    '[::1].evil',
    `[::1].evil:${port}`,
    `127.0.0.1:${port}@evil.example`,
    `localhost:${port}@evil.example`,
    `evil.example@localhost:${port}`,
    'labwatch.example.net.evil.example',
    'evil-labwatch.example.net',
    '127.1',
    '0x7f.0.0.1',
    '127.000.0.1',
    '127.0.0.256',
    '::1',
    `localhost:${port}/x`,
    `localhost:99999`,
  ])
    await assertRefused('Host', host);
});

test('a trailing dot is not a way in: localhost. and 127.0.0.1. are refused, as is the public host with one', async () => {
  for (const host of ['localhost.', `localhost.:${port}`, 'LOCALHOST.', '127.0.0.1.', `127.0.0.1.:${port}`, 'labwatch.example.net.', `[::1].:${port}`]) await assertRefused('Host', host);
});

test('loopback Host names and the public_url host are accepted, in any letter case', async () => {
  for (const host of [
    `127.0.0.1:${port}`,
    '127.0.0.1',
    `127.1.2.3:${port}`,
    `[::1]:${port}`,
    '[::1]',
    `localhost:${port}`,
    'LOCALHOST',
    'LocalHost:9877',
    'labwatch.example.net',
    'LabWatch.Example.NET:443',
  ]) {
    const { status } = await post({ Host: host });
    assert.equal(status, 200, `Host: ${host} must be accepted`);
  }
});

test('Origins that are not exactly a loopback or the public origin are refused (403 naming the header)', async () => {
  for (const origin of [
    'http://127.evil.example',
    `http://127.0.0.1.nip.io:${port}`,
    'http://localhost.evil.example',
    `http://localhost.:${port}`,
    'http://localhost.',
    'http://[::1].evil',
    `http://127.0.0.1:${port}@evil.example`,
    `http://evil.example@localhost:${port}`,
    `http://user:pass@127.0.0.1:${port}`,
    `http://localhost:${port}/path`,
    `http://127.1:${port}`,
    'http://0x7f.0.0.1',
    'http://labwatch.example.net.evil.example',
    'ftp://localhost',
    'null',
    '',
    'localhost',
  ])
    await assertRefused('Origin', origin);
});

test('loopback Origins and the public_url origin are accepted', async () => {
  for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`, `HTTP://LocalHost:${port}`, 'https://labwatch.example.net']) {
    const { status } = await post({ Origin: origin });
    assert.equal(status, 200, `Origin: ${origin} must be accepted`);
  }
});
