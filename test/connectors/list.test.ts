/**
 * The connector list is the one place a system is named: its config block, watch schedule and
 * secrets are accepted because it declares them, and only the systems that are enabled and answer
 * show up in the tools offered, the MCP server's instructions and the triage prompt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { blockSecrets } from '../../src/config/schema.ts';
import { CONNECTORS } from '../../src/connectors/index.ts';
import { instructions } from '../../src/mcp/server.ts';
import { buildToolbox } from '../../src/registry.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { askPrompt, systemPrompt } from '../../src/triage/prompt.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-connectors-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const fakeZpool = fileURLToPath(new URL('../bin/zpool', import.meta.url));
const silent = createLogger({ level: 'silent' });

test('every connector in the list has a unique config name and its watch block is accepted with defaults', () => {
  const names = CONNECTORS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const c of CONNECTORS) assert.match(c.name, /^[a-z][a-z0-9_]*$/, `${c.name}: a config key`);
  const cfg = loadConfig(undefined, {});
  for (const c of CONNECTORS.filter((x) => x.watch)) assert.ok((cfg.watch as Record<string, unknown>)[c.name], `watch.${c.name} has its defaults`);
  // A block nobody declared is refused, naming the key.
  assert.throws(() => loadConfig(file('typo.yaml', 'watch:\n  smrt: {}\n'), {}), (e: unknown) => e instanceof ConfigError && /unknown key smrt/.test(e.message));
});

test('secrets a connector declares are read from its *_file or its environment variable, and refused inline with both named', () => {
  const tokenFile = file('prom-token', 'prom-secret-7\n');
  const p = file('prom.yaml', `prometheus:\n  url: http://127.0.0.1:9\n  bearer_token_file: ${tokenFile}\n`);
  assert.equal(blockSecrets(loadConfig(p, {}), 'prometheus').bearer_token_file, 'prom-secret-7');
  assert.equal(blockSecrets(loadConfig(p, { LABWATCH_PROMETHEUS_TOKEN: 'from-env' }), 'prometheus').bearer_token_file, 'from-env');
  const inline = file('inline.yaml', 'alertmanager:\n  url: http://127.0.0.1:9\n  bearer_token: abc\n');
  assert.throws(
    () => loadConfig(inline, {}),
    (e: unknown) => e instanceof ConfigError && /alertmanager: unknown key bearer_token: secrets are not read inline, use bearer_token_file \(or the LABWATCH_ALERTMANAGER_TOKEN environment variable\)/.test(e.message),
  );
});

/** An HTTP server that refuses everything, as a Prometheus behind a broken proxy would. */
async function refusing(): Promise<{ url: string; close(): Promise<void> }> {
  const srv = createServer((_req, res) => res.writeHead(502).end('bad gateway'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => srv.close(() => r())) };
}

test('only systems that are enabled and answer are offered, and the prompts and MCP instructions name only those', async (t) => {
  const broken = await refusing();
  t.after(() => broken.close());
  // zfs is on (its zpool stand-in exists), smart is off, the host is on, Prometheus answers 502.
  const cfg = loadConfig(
    file('lab.yaml', `watch:\n  smart: { enabled: false }\n  zfs: { enabled: true, zpool: ${fakeZpool} }\nprometheus:\n  url: ${broken.url}\n  timeout: 2s\n`),
    {},
  );
  const { toolbox, tools: all } = buildToolbox(cfg, { log: silent });
  assert.ok(all.some((t) => t.name === 'prometheus_query'), 'configured: callable by name');
  const offer = await toolbox.offered();
  const names = offer.tools.map((t) => t.name);
  assert.ok(names.includes('zfs_list_pools') && names.includes('host_overview'), names.join(', '));
  assert.ok(!names.some((n) => n.startsWith('smart_')), 'smart is off');
  assert.ok(!names.some((n) => n.startsWith('prometheus_')), 'Prometheus does not answer');
  assert.deepEqual(offer.down.map((d) => d.system), ['prometheus']);
  assert.match(offer.down[0]!.why, /502/);

  for (const text of [systemPrompt(offer.tools), askPrompt(offer.tools), instructions(offer.tools)]) {
    assert.match(text, /ZFS pools/);
    assert.match(text, /the host labwatch runs on/);
    assert.doesNotMatch(text, /SMART|Prometheus|Proxmox|TrueNAS/, text);
  }
  assert.match(instructions(offer.tools), /Start with zfs_list_pools or host_overview/);
});

test('a lab with no systems says so instead of claiming tools it does not have', async () => {
  const cfg = loadConfig(file('bare.yaml', 'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n'), {});
  const { toolbox } = buildToolbox(cfg, { log: silent });
  const offer = await toolbox.offered();
  assert.deepEqual(offer.tools, []);
  assert.match(systemPrompt(offer.tools), /no diagnostic tools for this lab right now/);
  assert.match(instructions(offer.tools), /serves no diagnostic tools here right now/);
});

/** `labwatch …` as a user runs it, through bin/labwatch.js. */
function labwatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [fileURLToPath(new URL('../../bin/labwatch.js', import.meta.url)), ...args], { env: { ...process.env, LABWATCH_CONFIG: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('observe with an unknown name lists the systems this labwatch can read, from the list', async () => {
  const r = await labwatch(['observe', 'mainframe', '--config', file('observe.yaml', 'watch:\n  smart: { enabled: false }\n')]);
  assert.equal(r.code, 1);
  const polling = CONNECTORS.filter((c) => c.collectors).map((c) => c.name);
  assert.match(r.stderr, new RegExp(`no collector named mainframe; choose ${polling.slice(0, -1).join(', ')} or ${polling.at(-1)}`));
});

test('check says which systems are off and fails on one that is insisted on but missing', async () => {
  const r = await labwatch(['check', '--config', file('check.yaml', 'redis:\n  url: redis://127.0.0.1:1\nwatch:\n  smart: { enabled: true, smartctl: /nonexistent/smartctl }\n  zfs: { enabled: false }\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL  smart: \/nonexistent\/smartctl is not installed or not on PATH \(apt install smartmontools\)$/m);
  assert.match(r.stdout, /^off   zfs: /m);
  assert.match(r.stdout, /^ok    host: /m);
});

test('a system that stops answering is said once, and again when it is back', async (t) => {
  let up = false;
  const srv = createServer((req, res) => {
    if (up && req.url?.startsWith('/api/v1/status/buildinfo')) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { version: '2.42.0' } }));
    else res.writeHead(503).end('unavailable');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
  const cfg = loadConfig(file('flaky.yaml', `watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\nprometheus:\n  url: http://127.0.0.1:${(srv.address() as { port: number }).port}\n`), {});
  const { toolbox } = buildToolbox(cfg, { log });
  const at = Date.now();
  for (const dt of [0, 61_000, 122_000]) assert.deepEqual((await toolbox.offered(at + dt)).tools, []);
  up = true;
  assert.ok((await toolbox.offered(at + 183_000)).tools.some((x) => x.name === 'prometheus_query'));
  assert.equal(lines.filter((l) => l.includes('does not answer')).length, 1, lines.join(''));
  assert.equal(lines.filter((l) => l.includes('answers again')).length, 1, lines.join(''));
});
