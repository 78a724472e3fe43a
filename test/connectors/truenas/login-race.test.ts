/**
 * A call made while the connection is still logging in (a triage tool while a poll reconnects)
 * waits for the login instead of going out unauthenticated. The NAS here is a minimal JSON-RPC
 * server on loopback HTTPS whose login takes half a second.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { TrueNasReader } from '../../../src/connectors/truenas/read.ts';
import type { TruenasConfig } from '../../../src/connectors/truenas/config.ts';
import { testCertificate } from '../../helpers/lab-api.ts';

test('a call made during login waits for it, and is sent logged in', async () => {
  const cert = testCertificate();
  const server = createServer({ key: cert.key, cert: cert.cert });
  const wss = new WebSocketServer({ server, path: '/api/current' });
  const seen: string[] = [];
  wss.on('connection', (ws) => {
    let authed = false;
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as { id: number; method: string };
      seen.push(`${f.method} ${authed ? 'logged in' : 'NOT LOGGED IN'}`);
      if (f.method === 'auth.login_ex')
        return void setTimeout(() => {
          authed = true;
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: f.id, result: { response_type: 'SUCCESS' } }));
        }, 500);
      if (!authed) return ws.send(JSON.stringify({ jsonrpc: '2.0', id: f.id, error: { code: -32001, message: 'Method call error', data: { errname: 'ENOTAUTHENTICATED', reason: 'Not authenticated' } } }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: f.id, result: f.method === 'core.get_methods' ? {} : f.method === 'system.info' ? { version: '25.04.2', hostname: 'nas' } : [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/api/current`;
  const reader = TrueNasReader.of({ url, username: 'labwatch', api_key_file: '/etc/labwatch/truenas-key', tls_fingerprint: cert.fingerprint, tls_verify: true, timeout: '3s' } as TruenasConfig, 'k'.repeat(32));
  try {
    const first = reader.info();
    await new Promise((r) => setTimeout(r, 200));
    await reader.alerts();
    await first;
    assert.ok(!seen.some((s) => s.includes('NOT LOGGED IN') && !s.startsWith('auth.')), seen.join('\n'));
  } finally {
    reader.rpc.close();
    wss.close();
    server.closeAllConnections();
    server.close();
  }
});
