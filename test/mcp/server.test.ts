/**
 * labwatch's MCP server as a client sees it: in process, and over stdio through `labwatch mcp`.
 * smartctl is test/bin/smartctl replaying real fixtures through the real exec path.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.ts';
import { buildToolbox } from '../../src/registry.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import { ReportStore } from '../../src/triage/reports.ts';
import { buildMcpServer } from '../../src/mcp/server.ts';
import { runTool } from '../../src/tools/run.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { sharedFixture } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const CLI = fileURLToPath(new URL('../../bin/labwatch.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'labwatch-mcp-'));
const prefix = `lwtest-mcp-${randomBytes(3).toString('hex')}`;
const configFile = join(dir, 'labwatch.yaml');
let client: Client;
let redis: Redis;

before(async () => {
  // Two drives with real serials (real scan trimmed to sda and sdb).
  const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
  scan.devices = scan.devices.filter((d) => ['/dev/sda', '/dev/sdb'].includes(d.name));
  writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
  copyFileSync(join(SMART, 'sata-ssd-healthy-samsung-860evo-xall.json'), join(dir, 'sda.json'));
  copyFileSync(join(SMART, 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json'), join(dir, 'sdb.json'));
  writeFileSync(join(dir, 'sdb.exit'), '216');
  process.env.FAKE_SMARTCTL_DIR = dir;
  writeFileSync(configFile, `redis:\n  url: "${TEST_REDIS_URL}"\n  prefix: ${prefix}\nwatch:\n  smart: { enabled: true, smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n`);
  const cfg = loadConfig(configFile, {});
  redis = new Redis(TEST_REDIS_URL);
  const store = new IncidentStore(redis, prefix, 3600);
  const { tools, audit } = buildToolbox(cfg, { redis, store, reports: new ReportStore(redis, prefix, 3600) });
  const server = buildMcpServer({ tools, audit, version: 'test' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: 'labwatch-test', version: '1' });
  await client.connect(b);
});
after(async () => {
  await client.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

test('every tool is listed with all four hints stated: read-only, not destructive, idempotent, closed world', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['host_overview', 'incident_get', 'incidents_list', 'smart_drive_health', 'smart_list_drives']);
  for (const t of tools) {
    assert.deepEqual(
      { r: t.annotations?.readOnlyHint, d: t.annotations?.destructiveHint, i: t.annotations?.idempotentHint, o: t.annotations?.openWorldHint },
      { r: true, d: false, i: true, o: false },
      t.name,
    );
    assert.ok((t.description ?? '').length > 120, `${t.name} has a description written for the model`);
    assert.match(t.name, /^[a-z0-9_]+$/, 'no dots: the Claude API refuses them');
  }
});

test('smart_list_drives and smart_drive_health read through the real exec path', async () => {
  const list = await client.callTool({ name: 'smart_list_drives', arguments: {} });
  const drives = (list.structuredContent as { drives: { subject: string; state: string }[] }).drives;
  assert.deepEqual(drives.map((d) => d.subject).sort(), ['disk:MSK423Y20S3HBC', 'disk:S3YZNB0KB00864E']);
  const one = await client.callTool({ name: 'smart_drive_health', arguments: { drive: 'MSK423Y20S3HBC' } });
  assert.equal(one.isError, undefined);
  const d = (one.structuredContent as { drive: { smartPassed: boolean; exit: { diskFailing: boolean } } }).drive;
  assert.equal(d.smartPassed, false);
  assert.equal(d.exit.diskFailing, true);
  assert.match((one.content as { text: string }[])[0]!.text, /SMART FAILING/);
});

test('a drive labwatch does not know is refused, and never reaches a command', async () => {
  const r = await client.callTool({ name: 'smart_drive_health', arguments: { drive: '/dev/sdz' } });
  assert.equal(r.isError, true);
  assert.match((r.content as { text: string }[])[0]!.text, /no drive "\/dev\/sdz" among the drives smartctl found \(disk:/);
  const injected = await client.callTool({ name: 'smart_drive_health', arguments: { drive: '/dev/sda; rm -rf /' } });
  assert.equal(injected.isError, true);
  const calls = readFileSync(join(dir, 'calls.log'), 'utf8');
  assert.doesNotMatch(calls, /sdz|rm -rf/);
});

test('every call is audited in the JSONL file and the Redis stream, arguments included', async () => {
  await client.callTool({ name: 'incidents_list', arguments: {} });
  const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; caller: string; outcome: string; args: unknown });
  assert.ok(lines.some((l) => l.tool === 'smart_drive_health' && l.outcome === 'error' && JSON.stringify(l.args).includes('/dev/sdz')));
  assert.ok(lines.every((l) => l.caller === 'mcp'));
  const stream = await redis.xrange(`${prefix}:audit`, '-', '+');
  assert.equal(stream.length, lines.length);
});

test('a result over the size cap becomes an error asking for a narrower call', async () => {
  const cfg = loadConfig(configFile, {});
  const { tools, audit } = buildToolbox(cfg, {});
  const r = await runTool(tools.find((t) => t.name === 'smart_list_drives')!, {}, audit, { caller: 'cli', maxBytes: 200 });
  assert.equal(r.status, 'error');
  assert.match(r.text, /over the 200-byte limit; call it again asking for less/);
});

test('labwatch mcp serves the same tools over stdio', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--config', configFile],
    env: { PATH: process.env.PATH ?? '', HOME: dir, FAKE_SMARTCTL_DIR: dir },
    stderr: 'pipe',
  });
  const c = new Client({ name: 'labwatch-stdio-test', version: '1' });
  await c.connect(transport);
  const { tools } = await c.listTools();
  assert.ok(tools.some((t) => t.name === 'smart_drive_health'));
  const r = await c.callTool({ name: 'smart_list_drives', arguments: {} });
  assert.equal((r.structuredContent as { status: string }).status, 'ok');
  await c.close();
});
