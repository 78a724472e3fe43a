/** /mcp on the daemon: streamable HTTP, behind the bearer token, with Host and Origin checks. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab.stop();
});

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

function rawPost(headers: Record<string, string>): Promise<number> {
  const url = new URL(`${lab.url}/mcp`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/mcp', method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(initialize);
  });
}

test('an MCP client with the token lists the tools and asks about a live incident', async () => {
  assert.equal((await lab.post(FIRING_AM021)).status, 200);
  const transport = new StreamableHTTPClientTransport(new URL(`${lab.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${SECRETS.httpToken}` } } });
  const client = new Client({ name: 'labwatch-http-test', version: '1' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'incidents_list'));
  const r = await client.callTool({ name: 'incidents_list', arguments: {} });
  const incidents = (r.structuredContent as { incidents: { title: string; severity: string }[] }).incidents;
  assert.deepEqual(incidents.map((i) => [i.title, i.severity]), [['This is a demo', 'critical']]);
  await client.close();
});

test('without the token 401; a foreign Host or Origin 403 (DNS rebinding); GET 405', async () => {
  const auth = { Authorization: `Bearer ${SECRETS.httpToken}` };
  assert.equal(await rawPost({}), 401);
  assert.equal(await rawPost({ Authorization: 'Bearer wrong' }), 401);
  assert.equal(await rawPost({ ...auth, Host: 'evil.example:9877' }), 403);
  assert.equal(await rawPost({ ...auth, Origin: 'https://evil.example' }), 403);
  assert.equal(await rawPost({ ...auth, Origin: `http://localhost:${new URL(lab.url).port}` }), 200, 'a loopback Origin is fine');
  const get = await fetch(`${lab.url}/mcp`, { headers: auth });
  assert.equal(get.status, 405);
});
