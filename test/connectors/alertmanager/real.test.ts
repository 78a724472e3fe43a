/**
 * The client and tools against a real Alertmanager (Debian's prometheus-alertmanager 0.25), started
 * here on a loopback port the kernel picks, with clustering off and storage in a temporary folder.
 * Skipped when the binary is missing, unless LABWATCH_REQUIRE_PEERS=1.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertmanagerApi } from '../../../src/connectors/alertmanager/api.ts';
import { alertmanagerTools, CREATE_SILENCE_TOOL } from '../../../src/connectors/alertmanager/tools.ts';
import { runTool } from '../../../src/tools/run.ts';
import type { ToolResult, ToolSpec } from '../../../src/tools/types.ts';
import { LISTEN_ANY, listeningPorts } from '../../helpers/peers.ts';
import { waitFor } from '../../helpers/wait.ts';

const BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';
const AMTOOL = '/usr/bin/amtool';
const present = existsSync(BIN);
const required = process.env.LABWATCH_REQUIRE_PEERS === '1';
const skip = present || required ? false : `${BIN} is not installed (apt-get install prometheus-alertmanager); LABWATCH_REQUIRE_PEERS=1 makes this a failure`;

const CONFIG = `route:
  receiver: 'null'
  group_wait: 1s
  group_interval: 5s
receivers:
  - name: 'null'
`;

type AlertRow = { alertname: string; state: string; silencedBy: string[]; instance: string; severity: string };

describe('a real Alertmanager 0.25', { skip, timeout: 20_000 }, () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let log = '';
  let base = '';
  let api: AlertmanagerApi;
  const killOnExit = () => proc?.kill('SIGKILL');
  const call = (tools: ToolSpec[], name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    const t = tools.find((x) => x.name === name);
    assert.ok(t, `no tool ${name} among ${tools.map((x) => x.name).join(', ')}`);
    return runTool(t, args, { record: async () => {} }, { caller: 'cli', timeoutMs: 5000 });
  };

  before(async () => {
    if (!present) throw new Error(`${BIN} is not installed and LABWATCH_REQUIRE_PEERS=1: apt-get install prometheus-alertmanager`);
    dir = mkdtempSync(join(tmpdir(), 'labwatch-am-'));
    writeFileSync(join(dir, 'alertmanager.yml'), CONFIG);
    proc = spawn(
      BIN,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        LISTEN_ANY, // a port the kernel picks: test files run side by side
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    process.once('exit', killOnExit);
    await waitFor('Alertmanager listening and ready', async () => {
      if (proc!.exitCode !== null) throw new Error(`it exited with ${proc!.exitCode}: ${log}`);
      base ||= listeningPorts(proc!.pid!).map((p) => `http://127.0.0.1:${p}`)[0] ?? '';
      return base && (await fetch(`${base}/-/ready`)).ok;
    }, 10_000, 50);
    api = new AlertmanagerApi({ url: base, timeoutMs: 3000 });
  });

  after(async () => {
    const p = proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    process.removeListener('exit', killOnExit);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('status shows version 0.25 and clustering disabled', async () => {
    const r = await call(alertmanagerTools(api, { writeTools: [] }), 'alertmanager_status');
    assert.equal(r.status, 'ok', r.text);
    assert.match(r.text, /^Alertmanager 0\.25\.\d+ .*up \d+s .*cluster disabled$/);
  });

  test('a posted alert shows as active; silencing it through the write tool shows it silenced by that silence', async () => {
    const post = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'DiskFull', instance: 'nas:9100', severity: 'critical' }, annotations: { summary: '/tank is 97% full' } },
        { labels: { alertname: 'NodeDown', instance: 'pi:9100', severity: 'warning' }, annotations: { summary: 'pi is down' } },
      ]),
    });
    assert.equal(post.status, 200, await post.text());

    const readOnly = alertmanagerTools(api, { writeTools: [] });
    assert.ok(!readOnly.some((t) => t.name === CREATE_SILENCE_TOOL), 'no write tool unless write_tools names it');
    const active = await waitFor('both alerts active', async () => {
      const r = await call(readOnly, 'alertmanager_alerts');
      return r.status === 'ok' && (r.data!.counts as Record<string, number>).active === 2 ? r : undefined;
    }, 5000, 100);
    const disk = (active.data!.alerts as AlertRow[]).find((a) => a.alertname === 'DiskFull')!;
    assert.deepEqual([disk.state, disk.instance, disk.severity, disk.silencedBy], ['active', 'nas:9100', 'critical', []]);
    assert.match(active.text, /active \(2\):\n- DiskFull critical nas:9100 since .*: \/tank is 97% full/);

    const writable = alertmanagerTools(api, { writeTools: [CREATE_SILENCE_TOOL] });
    const created = await call(writable, CREATE_SILENCE_TOOL, {
      matchers: [{ name: 'alertname', value: 'DiskFull' }, { name: 'instance', value: 'nas:.*', isRegex: true }],
      duration: '2h',
      comment: 'replacing the disk',
    });
    assert.equal(created.status, 'ok', created.text);
    const id = created.data!.silenceId as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const endsIn = Date.parse(created.data!.endsAt as string) - Date.now();
    assert.ok(endsIn > 7_100_000 && endsIn <= 7_200_000, `ends in ${endsIn} ms`);

    const silenced = await waitFor('DiskFull silenced', async () => {
      const r = await call(readOnly, 'alertmanager_alerts');
      return r.status === 'ok' && (r.data!.counts as Record<string, number>).silenced === 1 ? r : undefined;
    }, 5000, 100);
    const rows = silenced.data!.alerts as AlertRow[];
    assert.deepEqual(rows.find((a) => a.alertname === 'DiskFull')!.silencedBy, [id]);
    assert.equal(rows.find((a) => a.alertname === 'NodeDown')!.state, 'active', 'the silence matches DiskFull only');
    assert.match(silenced.text, new RegExp(`silenced \\(1\\):\\n- DiskFull .*\\[silenced by ${id}\\]`));
    const onlySilenced = await call(readOnly, 'alertmanager_alerts', { state: 'silenced' });
    assert.deepEqual((onlySilenced.data!.alerts as AlertRow[]).map((a) => a.alertname), ['DiskFull']);

    const silences = await call(readOnly, 'alertmanager_silences');
    assert.equal(silences.status, 'ok', silences.text);
    const [s] = silences.data!.silences as { id: string; state: string; matchers: string[]; createdBy: string; comment: string }[];
    assert.deepEqual(s, { ...s!, id, state: 'active', matchers: ['alertname="DiskFull"', 'instance=~"nas:.*"'], createdBy: 'labwatch', comment: 'replacing the disk' });

    if (existsSync(AMTOOL)) {
      // amtool, Alertmanager's own client, sees the same silence.
      const q = spawnSync(AMTOOL, [`--alertmanager.url=${base}`, 'silence', 'query', '--quiet'], { encoding: 'utf8', timeout: 5000 });
      assert.equal(q.stdout.trim(), id, q.stderr);
    }
  });

  test("Alertmanager's own refusal (a regex it cannot compile) reaches the tool result", async () => {
    const r = await call(alertmanagerTools(api, { writeTools: [CREATE_SILENCE_TOOL] }), CREATE_SILENCE_TOOL, {
      matchers: [{ name: 'instance', value: '(nas', isRegex: true }],
      duration: '1h',
      comment: 'broken regex',
    });
    assert.equal(r.status, 'error');
    assert.match(r.text, /POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/silences: 400 Bad Request: silence invalid: invalid label matcher 0: invalid regular expression/);
  });
});
