/**
 * The client and tools against a real Prometheus (Debian's 2.42): started here on a loopback port
 * the kernel picks, with a temporary TSDB, scraping itself every second, with one always-firing alert.
 * Skipped when /usr/bin/prometheus is missing, unless LABWATCH_REQUIRE_PEERS=1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PrometheusClient, PrometheusError } from '../../../src/connectors/prometheus/client.ts';
import { prometheusTools } from '../../../src/connectors/prometheus/tools.ts';
import { runTool } from '../../../src/tools/run.ts';
import { waitFor } from '../../helpers/wait.ts';
import { LISTEN_ANY, listeningPorts } from '../../helpers/peers.ts';

const BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const missing = !existsSync(BIN);
const required = process.env.LABWATCH_REQUIRE_PEERS === '1';

if (missing && required) {
  test('a real Prometheus is required (LABWATCH_REQUIRE_PEERS=1)', () => {
    assert.fail(`${BIN} is missing: install Debian's prometheus package (apt-get install prometheus) or set PROMETHEUS_BIN`);
  });
}

describe('against a real Prometheus', { skip: missing ? `${BIN} is missing: install Debian's prometheus package to run this` : false }, () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let client: PrometheusClient;
  const logTail = () => log.split('\n').slice(-8).join('\n');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'labwatch-prometheus-'));
    writeFileSync(
      join(dir, 'rules.yml'),
      ['groups:', '  - name: labwatch-test', '    rules:', '      - alert: AlwaysFiring', '        expr: vector(1)', '        for: 0s', '        labels: { severity: warning }', ''].join('\n'),
    );
    // It listens on a port the kernel picks (test files run side by side); once known, the config
    // gains the self-scrape and Prometheus reloads it.
    const config = (self?: string) =>
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        `rule_files: [ ${join(dir, 'rules.yml')} ]`,
        ...(self ? ['scrape_configs:', '  - job_name: prometheus', `    static_configs: [ { targets: ['${self}'] } ]`] : []),
        '',
      ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config());
    proc = spawn(
      BIN,
      [`--config.file=${join(dir, 'prometheus.yml')}`, LISTEN_ANY, '--web.enable-lifecycle', `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
    let startFailure: string | undefined;
    proc.once('error', (e) => (startFailure = `cannot start ${BIN}: ${e.message}`));
    proc.once('exit', (code, sig) => (startFailure ??= `prometheus exited (${code ?? sig}) before it was ready:\n${logTail()}`));
    process.once('exit', () => proc?.kill('SIGKILL'));
    await waitFor('Prometheus listening and ready', async () => {
      if (startFailure) return startFailure;
      port ||= listeningPorts(proc!.pid!)[0] ?? 0;
      return port > 0 && (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok && 'ready';
    }, 8000, 100).then((r) => {
      if (r !== 'ready') assert.fail(String(r));
    });
    client = new PrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    writeFileSync(join(dir, 'prometheus.yml'), config(`127.0.0.1:${port}`));
    const reload = await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST' });
    assert.ok(reload.ok, `reloading the config: ${reload.status} ${await reload.text()}`);
  });

  after(async () => {
    const p = proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('build info names the version', async () => {
    assert.match((await client.buildinfo()).data.version, /^2\./);
  });

  test('`up` returns the self-scrape with value 1', { timeout: 12_000 }, async () => {
    const series = await waitFor(
      'the first self-scrape',
      async () => {
        const r = await client.query('up');
        return r.data.resultType === 'vector' && r.data.result.length > 0 ? r.data.result : undefined;
      },
      11_000,
      200,
    ).catch((e: Error) => assert.fail(`${e.message}\nprometheus log:\n${logTail()}`));
    assert.deepEqual(
      series.map((s) => [s.metric.__name__, s.metric.job, s.metric.instance, s.value?.[1]]),
      [['up', 'prometheus', `127.0.0.1:${port}`, '1']],
    );
  });

  test("a syntax error is a query error carrying Prometheus' own message", async () => {
    await assert.rejects(client.query('rate(up[5m)'), (e: unknown) => {
      assert.ok(e instanceof PrometheusError);
      assert.equal(e.kind, 'query');
      assert.equal(e.details.errorType, 'bad_data');
      assert.equal(e.details.status, 400);
      assert.match(e.details.promError!, /parse error/);
      assert.equal(e.message, `prometheus rejected the query \`rate(up[5m)\`: bad_data: ${e.details.promError}`);
      return true;
    });
  });

  test('a range query over the last 10 s returns the series, and the tool summarises it', async () => {
    const end = Date.now() / 1000;
    const r = await client.queryRange('up', end - 10, end, 1);
    assert.ok(r.data.resultType === 'matrix');
    const values = r.data.result[0]!.values!;
    assert.ok(values.length >= 1 && values.length <= 11, `${values.length} points`);
    assert.ok(values.every(([, v]) => v === '1'));
    const tool = prometheusTools(client, { maxSeries: 50, maxPoints: 500 }).find((t) => t.name === 'prometheus_query_range')!;
    const res = await runTool(tool, { expr: 'up', range: '10s' }, { record: async () => {} }, { caller: 'cli' });
    assert.equal(res.status, 'ok', res.text);
    assert.match(res.text, new RegExp(`up\\{instance="127\\.0\\.0\\.1:${port}", job="prometheus"\\}: last 1, min 1, max 1, first 1`));
  });

  test('targets show the job healthy', { timeout: 8000 }, async () => {
    const t = await waitFor('a healthy target', async () => (await client.targets('active')).data.activeTargets.find((x) => x.health === 'up'), 6000, 200);
    assert.equal(t.labels.job, 'prometheus');
    assert.equal(t.lastError, '');
    const tool = prometheusTools(client, { maxSeries: 50, maxPoints: 500 }).find((x) => x.name === 'prometheus_targets')!;
    const res = await runTool(tool, {}, { record: async () => {} }, { caller: 'cli' });
    assert.match(res.text, new RegExp(`^1 target: 1 up, 0 down, 0 unknown\nUP prometheus 127\\.0\\.0\\.1:${port} \\(last scrape \\d+m?s ago\\)$`));
  });

  test('the always-firing rule is loaded and its alert fires', { timeout: 8000 }, async () => {
    const alert = await waitFor('AlwaysFiring to fire', async () => (await client.alerts()).data.find((a) => a.labels.alertname === 'AlwaysFiring' && a.state === 'firing'), 6000, 200);
    assert.equal(alert.labels.severity, 'warning');
    assert.equal(Number(alert.value), 1);
    const groups = (await client.rules('alert')).data;
    assert.deepEqual(groups.map((g) => [g.name, g.rules.map((r) => [r.name, r.type, r.health, r.state])]), [['labwatch-test', [['AlwaysFiring', 'alerting', 'ok', 'firing']]]]);
    assert.deepEqual((await client.rules('record')).data.flatMap((g) => g.rules), []);
    const tools = prometheusTools(client, { maxSeries: 50, maxPoints: 500 });
    const res = await runTool(tools.find((x) => x.name === 'prometheus_alerts')!, {}, { record: async () => {} }, { caller: 'cli' });
    assert.match(res.text, /^1 alert: 1 firing, 0 pending\nFIRING AlwaysFiring\{severity="warning"\} since \S+ value 1$/);
  });
});
