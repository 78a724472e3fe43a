/**
 * The hub: external MCP servers (a third-party-style server over stdio and over streamable HTTP)
 * offered to triage next to labwatch's own tools: only allowed tools, namespaced; a server that is
 * down is skipped and reached again later; a child that dies is restarted on next use; and in a
 * whole daemon, Claude's call to an external tool runs, is audited, and its result is in the report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpHub, type ExternalServer } from '../../src/mcp/hub.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { runTool } from '../../src/tools/run.ts';
import type { AuditLog, AuditEntry } from '../../src/tools/audit.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { startHttpNetlab, type HttpNetlab } from '../helpers/external-mcp.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { freePort } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const NETLAB = fileURLToPath(new URL('../helpers/external-mcp.ts', import.meta.url));
const NETLAB_TOKEN = 'netlab-bearer-4d1e9a';
const dir = mkdtempSync(join(tmpdir(), 'labwatch-hub-'));
const calls = join(dir, 'netlab-calls.log');

const stdioServer = (over: Partial<ExternalServer> = {}): ExternalServer => ({
  name: 'netlab',
  command: process.execPath,
  args: ['--import', 'tsx', NETLAB],
  env: { NETLAB_CALLS: calls },
  headers: {},
  tools: ['link_errors', 'port_list'],
  timeoutMs: 10_000,
  ...over,
});

function quietLog() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', destination: { write: (l) => void lines.push(l) } }) };
}
const memoryAudit = (): AuditLog & { records: AuditEntry[] } => {
  const records: AuditEntry[] = [];
  return { records, record: async (r: AuditEntry) => void records.push(r) } as AuditLog & { records: AuditEntry[] };
};

describe('the hub', () => {
  test('offers only the allowed tools of a stdio server, namespaced, with its schema, and runs them', async () => {
    const { log } = quietLog();
    const hub = new McpHub([], [stdioServer()], '0.0.0', log);
    try {
      const tools = await hub.tools();
      assert.deepEqual(tools.map((t) => t.name), ['netlab__link_errors', 'netlab__port_list']); // never port_disable
      const link = tools[0]!;
      assert.deepEqual((link.schema?.json as { required?: string[] }).required, ['port']);
      assert.equal(link.annotations.readOnly, true);
      const audit = memoryAudit();
      const r = await runTool(link, { port: 'ge0/7' }, audit, { caller: 'triage', incident: 'inc-1' });
      assert.equal(r.status, 'ok');
      assert.deepEqual(r.data, { port: 'ge0/7', crc_errors: 1287, drops: 4, mtu: 1500 });
      assert.equal(audit.records[0]!.tool, 'netlab__link_errors');
      // Input is checked against the server's schema before anything is sent.
      const bad = await runTool(link, { port: 'ge0/7; reboot' }, audit, { caller: 'triage' });
      assert.equal(bad.status, 'error');
      assert.match(bad.text, /invalid input for netlab__link_errors: port/);
      assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['link_errors {"port":"ge0/7"}']);
    } finally {
      await hub.close();
    }
  });

  test('a server that is down is logged and skipped, and connected once it is back', async () => {
    const port = await freePort();
    const { log, lines } = quietLog();
    const server: ExternalServer = { name: 'switch', url: `http://127.0.0.1:${port}/mcp`, headers: { Authorization: `Bearer ${NETLAB_TOKEN}` }, args: [], env: {}, tools: ['link_errors'], timeoutMs: 2000 };
    const own = [{ name: 'host_load', title: 'load', description: '', input: {}, annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: false }, run: async () => ({ status: 'ok' as const, text: '' }) }];
    const hub = new McpHub(own, [server], '0.0.0', log, { firstRetryMs: 200 });
    let netlab: HttpNetlab | undefined;
    try {
      const started = Date.now();
      assert.deepEqual((await hub.tools()).map((t) => t.name), ['host_load']);
      assert.ok(Date.now() - started < 2500, 'a refused connection does not hold triage up');
      assert.ok(lines.some((l) => l.includes('MCP server switch') && l.includes('unavailable')));
      assert.deepEqual(hub.status(), [{ name: 'switch', up: false }]);
      netlab = await startHttpNetlab(NETLAB_TOKEN, port);
      // Within the pause it is not tried again; after it, it is.
      assert.deepEqual((await hub.tools()).map((t) => t.name), ['host_load']);
      await new Promise((r) => setTimeout(r, 250));
      assert.deepEqual((await hub.tools()).map((t) => t.name), ['host_load', 'switch__link_errors']);
      const r = await runTool((await hub.tools())[1]!, { port: 'ge0/1' }, memoryAudit(), { caller: 'cli' });
      assert.match(r.text, /1287 CRC errors/);
    } finally {
      await hub.close();
      await netlab?.stop();
    }
  });

  test('a wrong token: the server refuses, the hub says so and goes on without it', async () => {
    const netlab = await startHttpNetlab(NETLAB_TOKEN);
    const { log, lines } = quietLog();
    const hub = new McpHub([], [{ name: 'switch', url: netlab.url, headers: { Authorization: 'Bearer wrong' }, args: [], env: {}, tools: ['link_errors'], timeoutMs: 2000 }], '0.0.0', log);
    try {
      assert.deepEqual(await hub.tools(), []);
      assert.ok(lines.some((l) => /switch.*unavailable/.test(l)));
      assert.ok(!lines.join('').includes(NETLAB_TOKEN));
    } finally {
      await hub.close();
      await netlab.stop();
    }
  });

  test('a stdio server that dies is started again on the next use', async () => {
    const { log, lines } = quietLog();
    const hub = new McpHub([], [stdioServer({ tools: ['port_list'] })], '0.0.0', log);
    try {
      const [tool] = await hub.tools();
      assert.equal((await runTool(tool!, {}, memoryAudit(), { caller: 'cli' })).status, 'ok');
      // Kill the child: find it by its command line.
      const pids = await childPids();
      assert.equal(pids.length, 1);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await waitFor('the hub to notice', () => lines.some((l) => l.includes('closed the connection')) || undefined, 5000);
      const again = await hub.tools();
      assert.deepEqual(again.map((t) => t.name), ['netlab__port_list']);
      assert.equal((await runTool(again[0]!, {}, memoryAudit(), { caller: 'cli' })).status, 'ok');
    } finally {
      await hub.close();
    }
  });
});

/** This process's children running the netlab server. */
async function childPids(): Promise<number[]> {
  const { readdirSync } = await import('node:fs');
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (ppid === process.pid && cmd.includes('external-mcp.ts')) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('triage with an external MCP server', () => {
  let api: ScriptedAnthropic;
  let netlab: HttpNetlab;
  let lab: Lab;
  before(async () => {
    api = await new ScriptedAnthropic().start();
    netlab = await startHttpNetlab(NETLAB_TOKEN);
    const auth = join(dir, 'netlab-auth');
    writeFileSync(auth, `Bearer ${NETLAB_TOKEN}\n`, { mode: 0o600 });
    lab = await startLab({
      anthropic: { base_url: api.url, max_turns: 4, max_tool_calls: 3, budget: '5s' },
      extraYaml: `mcp:\n  servers:\n    - name: switch\n      url: ${netlab.url}\n      header_files: { Authorization: ${auth} }\n      tools: [link_errors]\n      timeout: 5s`,
    });
  });
  after(async () => {
    await lab.stop();
    await netlab.stop();
    await api.stop();
  });

  test("Claude calls the switch's tool; the call is audited and its finding reaches the email", async () => {
    api.script(
      { toolUse: [{ name: 'switch__link_errors', input: { port: 'ge0/3' } }] },
      {
        toolUse: [
          {
            name: 'submit_report',
            input: {
              summary: 'Port ge0/3 has 1287 CRC errors: a bad cable or an MTU mismatch.',
              facts: [{ text: 'ge0/3: 1287 CRC errors, MTU 1500', tool_call: 'switch__link_errors {"port":"ge0/3"}' }],
              causes: [{ text: 'A damaged patch cable', confidence: 'medium' }],
              actions: [{ text: 'Replace the patch cable on ge0/3', urgency: 'soon' }],
              not_checked: [],
            },
          },
        ],
      },
    );
    assert.equal((await lab.post(FIRING_AM021.replaceAll('DemoAlert', 'LinkErrors'))).status, 200);
    const mail = await waitFor('the report', () => lab.smtp.messages[0], 15_000);
    assert.match(mail.parsed.text ?? '', /Replace the patch cable on ge0\/3/);
    const offered = api.requests[0]!.body.tools.map((t) => t.name);
    assert.ok(offered.includes('switch__link_errors'));
    assert.ok(!offered.some((n) => n.includes('port_disable') || n.includes('port_list')), 'only allowed tools are offered');
    const result = (api.requests[1]!.body.messages[2]!.content as { content: string }[])[0]!.content;
    assert.match(result, /^<untrusted-data source="tool:switch__link_errors">/);
    assert.match(result, /"crc_errors": 1287/);
    const audited = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string; incident?: string });
    assert.deepEqual(audited.map((a) => [a.caller, a.tool]), [['triage', 'switch__link_errors']]);
    for (const r of api.requests) assert.ok(!r.raw.includes(NETLAB_TOKEN), 'the header secret never reaches the API');
    assert.ok(!lab.logs.join('').includes(NETLAB_TOKEN));
    assert.ok(!lab.logs.join('').includes(SECRETS.anthropicKey));
  });
});
