/**
 * Write tools over MCP on HTTP: nobody is at a terminal to confirm, so a tool that changes
 * something (alertmanager_create_silence, enabled by alertmanager.write_tools) is served at
 * POST /mcp only with `mcp.http_write_tools: true`. A loopback fake Alertmanager records
 * every request it gets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readFixture } from '../helpers/fixtures.ts';
import { closeServer, listenLoopback } from '../helpers/loopback.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';

const WRITE_TOOL = 'alertmanager_create_silence';
const silenceArgs = { matchers: [{ name: 'alertname', value: 'DiskTempHigh' }], duration: '2h', comment: 'fan replaced, waiting for temps to settle' };

/**
 * Answers /api/v2/status as a real Alertmanager 0.25 did (labwatch offers the tools only while
 * Alertmanager answers), other reads with nothing, a silence POST with an id; remembers every request.
 */
async function fakeAlertmanager(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const status = readFixture('alertmanager', 'api-v2-status-am0.25.json');
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.setHeader('Content-Type', 'application/json');
    res.end(req.method === 'POST' ? JSON.stringify({ silenceID: 'f00dfeed-0000-4000-8000-000000000001' }) : req.url?.startsWith('/api/v2/status') ? status : '[]');
  });
  return { url: await listenLoopback(server), requests, server };
}

async function mcpClient(lab: Lab): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${lab.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${SECRETS.httpToken}` } } });
  const client = new Client({ name: 'labwatch-write-test', version: '1' });
  await client.connect(transport);
  return client;
}

const alertmanagerYaml = (url: string) => `alertmanager:\n  url: ${url}\n  write_tools: [${WRITE_TOOL}]\n`;

describe('by default (mcp.http_write_tools unset)', () => {
  let am: Awaited<ReturnType<typeof fakeAlertmanager>>;
  let lab: Lab;
  before(async () => {
    am = await fakeAlertmanager();
    lab = await startLab({ extraYaml: alertmanagerYaml(am.url) });
  });
  after(async () => {
    await lab.stop();
    await closeServer(am.server);
  });

  test('an enabled write tool is not listed over HTTP; the read-only Alertmanager tools are', async () => {
    const client = await mcpClient(lab);
    const names = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    assert.ok(names.includes('alertmanager_silences'), names.join(', '));
    assert.ok(!names.includes(WRITE_TOOL), `${WRITE_TOOL} must not be served over HTTP: ${names.join(', ')}`);
  });

  test('calling it over HTTP is refused and nothing reaches Alertmanager', async () => {
    const client = await mcpClient(lab);
    const r = await client.callTool({ name: WRITE_TOOL, arguments: silenceArgs });
    await client.close();
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), new RegExp(`${WRITE_TOOL} not found`));
    assert.deepEqual(am.requests.filter((q) => q.startsWith('POST')), [], 'no silence was created');
  });
});

describe('with mcp.http_write_tools: true', () => {
  let am: Awaited<ReturnType<typeof fakeAlertmanager>>;
  let lab: Lab;
  before(async () => {
    am = await fakeAlertmanager();
    lab = await startLab({ extraYaml: `${alertmanagerYaml(am.url)}mcp:\n  http_write_tools: true\n` });
  });
  after(async () => {
    await lab.stop();
    await closeServer(am.server);
  });

  test('the write tool is listed as not read-only, runs, and the call is audited as mcp', async () => {
    const client = await mcpClient(lab);
    const tool = (await client.listTools()).tools.find((t) => t.name === WRITE_TOOL);
    assert.equal(tool?.annotations?.readOnlyHint, false);
    const r = await client.callTool({ name: WRITE_TOOL, arguments: silenceArgs });
    await client.close();
    assert.notEqual(r.isError, true, JSON.stringify(r.content));
    assert.deepEqual(am.requests.filter((q) => q.startsWith('POST')), ['POST /api/v2/silences']);
    const audited = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string; outcome: string });
    assert.deepEqual(audited.filter((a) => a.tool === WRITE_TOOL).map((a) => [a.caller, a.outcome]), [['mcp', 'ok']]);
  });
});
