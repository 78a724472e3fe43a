/**
 * The command line against the real Alertmanager: `labwatch check` probes the configured APIs and
 * MCP servers; a write tool does not exist unless enabled in config, and enabled it needs a
 * person's yes (no terminal: refused, nothing sent) or --yes, and the call is audited.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LISTEN_ANY, PEER_BINS, peersMissing, startPeer, type Peer } from './helpers/peers.ts';
import { TEST_REDIS_URL } from './helpers/lab.ts';
import { freePort } from './helpers/redis-server.ts';
import { randomBytes } from 'node:crypto';

const CLI = fileURLToPath(new URL('../bin/labwatch.js', import.meta.url));
/** Keeps this file's Redis keys apart from any other run of it against the same Redis. */
const RUN = randomBytes(4).toString('hex');
const skip = peersMissing();

function labwatch(args: string[], dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('alertmanager_create_silence from the shell', { skip: skip ?? false, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-write-'));
  let am: Peer;
  const config = (write: boolean) => {
    const file = join(dir, write ? 'write.yaml' : 'read.yaml');
    writeFileSync(
      file,
      `redis: { url: "${TEST_REDIS_URL}", prefix: lwtest-write-${RUN} }\naudit: { file: ${join(dir, 'audit.jsonl')} }\nwatch: { smart: { enabled: false }, zfs: { enabled: false }, host: { enabled: false } }\n` +
        `alertmanager:\n  url: ${am.url}\n${write ? '  write_tools: [alertmanager_create_silence]\n' : ''}`,
    );
    return file;
  };
  const silences = async () => (await (await fetch(`${am.url}/api/v2/silences`)).json()) as { id: string; comment: string; createdBy: string }[];
  const args = JSON.stringify({ matchers: [{ name: 'alertname', value: 'DiskTempHigh' }], duration: '2h', comment: 'fan replaced, waiting for temps to settle' });

  before(async () => {
    writeFileSync(join(dir, 'am.yml'), 'route: { receiver: none }\nreceivers: [ { name: none } ]\n');
    am = await startPeer('alertmanager', PEER_BINS.alertmanager, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'am')}`, LISTEN_ANY, '--cluster.listen-address='], '/-/ready');
  });
  after(async () => {
    await am?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('labwatch check: Alertmanager answers, a dead Prometheus and an MCP server lacking a tool are named', async () => {
    const deadPort = await freePort();
    const netlab = fileURLToPath(new URL('./helpers/external-mcp.ts', import.meta.url));
    const file = join(dir, 'check.yaml');
    writeFileSync(
      file,
      `redis: { url: "${TEST_REDIS_URL}", prefix: lwtest-check-${RUN} }\nwatch: { smart: { enabled: false }, zfs: { enabled: false }, host: { enabled: false } }\n` +
        `alertmanager: { url: "${am.url}" }\nprometheus: { url: "http://127.0.0.1:${deadPort}", timeout: 2s }\n` +
        `mcp:\n  servers:\n    - name: netlab\n      command: ${process.execPath}\n      args: [--import, tsx, ${netlab}]\n      tools: [link_errors, vlan_list]\n`,
    );
    const r = await labwatch(['check', '--config', file], dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^ok {4}Alertmanager http:\/\/127\.0\.0\.1:\d+ \(version 0\.25\.\d+\)$/m);
    assert.match(r.stdout, new RegExp(`^FAIL  prometheus: cannot reach Prometheus at http://127\\.0\\.0\\.1:${deadPort}`, 'm'));
    assert.match(r.stdout, /^FAIL  mcp netlab: MCP server netlab does not offer vlan_list; check mcp\.servers\[\]\.tools$/m);
  });

  test('not enabled: the tool does not exist', async () => {
    const r = await labwatch(['tools', 'call', 'alertmanager_create_silence', args, '--config', config(false)], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no tool alertmanager_create_silence/);
    assert.deepEqual(await silences(), []);
  });

  test('enabled, without a terminal to confirm: refused, nothing reaches Alertmanager', async () => {
    const list = await labwatch(['tools', 'list', '--json', '--config', config(true)], dir);
    const tool = (JSON.parse(list.stdout) as { name: string; annotations: { readOnly: boolean } }[]).find((t) => t.name === 'alertmanager_create_silence');
    assert.equal(tool?.annotations.readOnly, false);
    const r = await labwatch(['tools', 'call', 'alertmanager_create_silence', args, '--config', config(true)], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /changes something and there is no terminal to confirm it/);
    assert.match(r.stderr, /pass --yes/);
    assert.deepEqual(await silences(), []);
  });

  test('enabled, with --yes: the silence exists in Alertmanager and the call is audited', async () => {
    const r = await labwatch(['tools', 'call', 'alertmanager_create_silence', args, '--yes', '--config', config(true)], dir);
    assert.equal(r.code, 0, r.stderr);
    const [silence] = await silences();
    assert.equal(silence?.comment, 'fan replaced, waiting for temps to settle');
    assert.equal(silence?.createdBy, 'labwatch');
    assert.ok(r.stdout.includes(silence!.id), 'the new silence id is printed');
    const audited = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string; outcome: string });
    assert.deepEqual(audited.map((a) => [a.caller, a.tool, a.outcome]), [['cli', 'alertmanager_create_silence', 'ok']]);
  });
});
