/** The Prometheus tools over a loopback server replaying real Prometheus answers, run the way MCP and triage run them. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PrometheusClient } from '../../../src/connectors/prometheus/client.ts';
import { chooseStep, pointsFor } from '../../../src/connectors/prometheus/summarise.ts';
import { prometheusTools } from '../../../src/connectors/prometheus/tools.ts';
import { runTool } from '../../../src/tools/run.ts';
import type { ToolResult, ToolSpec } from '../../../src/tools/types.ts';
import { freePort, Replay, type Reply } from './replay.ts';

const NOW = Date.parse('2015-07-01T20:11:00.781Z');
const EMPTY = '{"status":"success","data":{"resultType":"vector","result":[]}}';
const byQuery = (answers: Record<string, Reply>) => (p: URLSearchParams) => answers[p.get('query') ?? ''] ?? { status: 400, body: '{"status":"error","errorType":"bad_data","error":"unexpected query in test"}' };

let replay: Replay;
before(async () => {
  replay = await new Replay({
    '/api/v1/query': byQuery({
      up: { file: 'query-instant-vector-up-docs.json' },
      '1+1': { file: 'query-instant-scalar-1plus1.json' },
      nothing_here: { body: EMPTY },
      'rate(up[5m)': { status: 400, file: 'error-bad-data-parse-error-2.42.json' },
    }),
    '/api/v1/query_range': byQuery({
      up: { file: 'query-range-matrix-up-docs.json' },
      'rate(node_cpu_seconds_total[5m])': { status: 422, file: 'error-execution-too-many-samples.json' },
    }),
    '/api/v1/alerts': { file: 'alerts-firing-and-pending-2.42.json' },
    '/api/v1/targets': { file: 'targets-one-down-one-up-2.42.json' },
    '/api/v1/rules': { file: 'rules-alerting-recording-one-failing-2.42.json' },
  }).start();
});
after(() => replay.close());

const audit = { record: async () => {} };
function toolbox(maxSeries = 50, maxPoints = 500, url = replay.url): Map<string, ToolSpec> {
  const client = new PrometheusClient({ url, timeoutMs: 2000 });
  return new Map(prometheusTools(client, { maxSeries, maxPoints, now: () => NOW }).map((t) => [t.name, t]));
}
function call(name: string, input: unknown, box = toolbox()): Promise<ToolResult> {
  return runTool(box.get(name)!, input, audit, { caller: 'cli' });
}

test('the five tools are read-only and named for the Claude API', () => {
  const box = toolbox();
  assert.deepEqual([...box.keys()], ['prometheus_query', 'prometheus_query_range', 'prometheus_alerts', 'prometheus_targets', 'prometheus_rules']);
  for (const t of box.values()) {
    assert.match(t.name, /^[a-z0-9_]+$/);
    assert.deepEqual(t.annotations, { readOnly: true, destructive: false, idempotent: true, openWorld: false });
  }
});

test('an instant query lists each series with its labels, metric name first, and its value', async () => {
  const r = await call('prometheus_query', { expr: 'up' });
  assert.equal(r.status, 'ok');
  assert.equal(r.text, '`up` now: 2 series\nup{instance="localhost:9090", job="prometheus"} = 1\nup{instance="localhost:9100", job="node"} = 0');
  assert.deepEqual(r.data?.series, [
    { series: 'up{instance="localhost:9090", job="prometheus"}', value: 1, at: '2015-07-01T20:10:51.781Z' },
    { series: 'up{instance="localhost:9100", job="node"}', value: 0, at: '2015-07-01T20:10:51.781Z' },
  ]);
  const s = await call('prometheus_query', { expr: '1+1', time: '2023-05-25T09:20:17Z' });
  assert.equal(s.text, '`1+1` at 2023-05-25T09:20:17.000Z:\nscalar 2 at 2023-05-25T09:20:17.116Z');
  assert.equal(replay.last('/api/v1/query')!.params.get('time'), '1685006417.000');
});

test('no series is no_data with what to try; a syntax error is an error with the hint', async () => {
  const none = await call('prometheus_query', { expr: 'nothing_here' });
  assert.equal(none.status, 'no_data');
  assert.match(none.text, /^`nothing_here` returned no series now\. .*prometheus_targets/);
  const bad = await call('prometheus_query', { expr: 'rate(up[5m)' });
  assert.equal(bad.status, 'error');
  assert.match(bad.text, /^prometheus rejected the query `rate\(up\[5m\)`: bad_data: invalid parameter "query": 1:11: parse error/);
  assert.match(bad.text, /Hint: fix the PromQL syntax/);
});

test('a range query summarises each series: first, last, min, max and the number of points', async () => {
  const r = await call('prometheus_query_range', { expr: 'up', range: '30s' });
  assert.equal(r.status, 'ok');
  const rows = r.data?.series as { series: string; points: number; min: number; max: number; first: { value: number }; last: { value: number; at: string } }[];
  assert.deepEqual(rows.map((x) => [x.series, x.points, x.first.value, x.last.value, x.min, x.max]), [
    ['up{instance="localhost:9090", job="prometheus"}', 3, 1, 1, 1, 1],
    ['up{instance="localhost:9091", job="node"}', 3, 0, 1, 0, 1],
  ]);
  assert.match(r.text, /^`up` over 30s \(2015-07-01T20:10:30\.781Z → 2015-07-01T20:11:00\.781Z, step 1s\): 2 series\n/);
  assert.match(r.text, /up\{instance="localhost:9091", job="node"\}: last 1, min 0, max 1, first 0 \(3 points, 2015-07-01T20:10:30\.781Z → 2015-07-01T20:11:00\.781Z\)/);
  // the step it chose went to Prometheus, and keeps a 7-day window at ≤ 500 points
  await call('prometheus_query_range', { expr: 'up', range: '7d' });
  const p = replay.last('/api/v1/query_range')!.params;
  assert.equal(p.get('step'), '1800');
  assert.ok(pointsFor(Number(p.get('start')), Number(p.get('end')), 1800) <= 500);
  assert.equal(Number(p.get('end')), NOW / 1000);
});

test('over max_series, the rest are counted and the text says how to narrow the query', async () => {
  const r = await call('prometheus_query', { expr: 'up' }, toolbox(1));
  assert.equal((r.data?.series as unknown[]).length, 1);
  assert.equal(r.data?.seriesTotal, 2);
  assert.equal(r.data?.omitted, 1);
  assert.match(r.text, /showing 1 of 2 series; 1 left out\. Narrow the query with a label matcher .* topk\(1, …\)/);
});

test('chooseStep picks the smallest nice step that keeps every series at max_points or fewer', () => {
  assert.equal(chooseStep(0, 3600, 500), 10);
  assert.equal(chooseStep(0, 6 * 3600, 500), 60);
  assert.equal(chooseStep(0, 7 * 86400, 500), 1800);
  assert.equal(chooseStep(0, 31 * 86400, 500), 7200);
  assert.equal(chooseStep(0, 10, 500), 1);
  assert.equal(chooseStep(0, 0, 500), 1);
  assert.equal(chooseStep(0, 1000 * 86400, 11), 91 * 86400);
  assert.equal(chooseStep(0, 59, 2), 30);
  assert.throws(() => chooseStep(10, 0, 500), /ends .* before it starts/);
  assert.throws(() => chooseStep(0, 10, 0), /at least 1/);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const span of [1, 59, 60, 61, 899, 3600, 3601, 86399, 86400 * 7 + 1, 86400 * 31, 86400 * 400]) {
    for (const max of [2, 11, 100, 500, 11000]) {
      const step = chooseStep(1e9, 1e9 + span, max);
      assert.ok(pointsFor(1e9, 1e9 + span, step) <= max, `span ${span}, max ${max}: step ${step} gives too many points`);
      const smaller = nice.filter((s) => s < step).at(-1);
      if (smaller) assert.ok(pointsFor(1e9, 1e9 + span, smaller) > max, `span ${span}, max ${max}: ${smaller} would do, chose ${step}`);
    }
  }
});

test('range inputs are checked: at most 31 days, a real duration, one of range or start, a step within max_points', async () => {
  const cases: [unknown, RegExp][] = [
    [{ expr: 'up', range: '32d' }, /invalid input for prometheus_query_range: range: expected at most 31d/],
    [{ expr: 'up', range: 'an hour' }, /range: .*a duration such as "15m"/],
    [{ expr: 'up', range: '0s' }, /range: .*at least 1s/],
    [{ expr: '' }, /expr: .*PromQL expression/],
    [{ expr: '   ' }, /expr: .*PromQL expression/],
    [{ expr: 'x'.repeat(4001) }, /expr: .*at most 4000 characters/],
    [{ expr: 'up', start: 'yesterday' }, /start: .*RFC 3339/],
    [{ expr: 'up', step: '0s' }, /step: .*at least 1s/],
    [{ expr: 'up', range: '1h', extra: 1 }, /extra/],
    [{ expr: 'up', range: '1h', start: '2015-07-01T00:00:00Z' }, /^give either range .* or start, not both$/],
    [{ expr: 'up', start: '2015-07-01T12:00:00Z', end: '2015-07-01T11:00:00Z' }, /window is empty: end 2015-07-01T11:00:00\.000Z is not after start/],
    [{ expr: 'up', start: '2015-05-01T00:00:00Z', end: '2015-07-01T00:00:00Z' }, /is 61d long, more than the 31 days allowed/],
    [{ expr: 'up', range: '7d', step: '15s' }, /^step 15s over 7d gives 40321 points per series, more than the 500 allowed: use a step of at least 30m/],
  ];
  const before = replay.seen.length;
  for (const [input, expected] of cases) {
    const r = await call('prometheus_query_range', input);
    assert.equal(r.status, 'error', JSON.stringify(input).slice(0, 80));
    assert.match(r.text, expected);
  }
  assert.equal(replay.seen.length, before, 'no invalid call reached Prometheus');
  const ok = await call('prometheus_query_range', { expr: 'up', start: '2015-07-01T20:00:00Z', end: '2015-07-01T21:00:00Z', step: '1m' });
  assert.equal(ok.status, 'ok');
  assert.deepEqual(['start', 'end', 'step'].map((k) => replay.last('/api/v1/query_range')!.params.get(k)), ['1435780800.000', '1435784400.000', '60']);
});

test('too many samples becomes an error that names the query and says to narrow the range or raise the step', async () => {
  const r = await call('prometheus_query_range', { expr: 'rate(node_cpu_seconds_total[5m])', range: '31d' });
  assert.equal(r.status, 'error');
  assert.match(r.text, /^prometheus rejected the query `rate\(node_cpu_seconds_total\[5m\]\)`: execution: query processing would load too many samples/);
  assert.match(r.text, /Hint: .*narrow the range, raise the step/);
});

test('alerts: firing first, with labels, state, since when and value', async () => {
  const r = await call('prometheus_alerts', {});
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.text.split('\n'), [
    '2 alerts: 1 firing, 1 pending',
    'FIRING AlwaysFiring{severity="warning"} since 2026-11-24T19:56:50.865157498Z value 1 — always firing, for tests',
    'PENDING TargetDown{instance="127.0.0.1:1", job="node", severity="critical"} since 2026-11-24T19:56:56.865157498Z value 0',
  ]);
  const pending = await call('prometheus_alerts', { state: 'pending' });
  assert.deepEqual((pending.data?.alerts as { alertname: string; labels: Record<string, string> }[]).map((a) => [a.alertname, a.labels.instance]), [['TargetDown', '127.0.0.1:1']]);
  assert.equal((await call('prometheus_alerts', { alertname: 'Nope' })).status, 'no_data');
});

test('targets: down targets first with the scrape error; filter by state', async () => {
  const r = await call('prometheus_targets', {});
  const lines = r.text.split('\n');
  assert.equal(lines[0], '2 targets: 1 up, 1 down, 0 unknown');
  assert.match(lines[1]!, /^DOWN node 127\.0\.0\.1:1 \(last scrape .* ago\) — Get "http:\/\/127\.0\.0\.1:1\/metrics": dial tcp 127\.0\.0\.1:1: connect: connection refused$/);
  assert.match(lines[2]!, /^UP prometheus 127\.0\.0\.1:19098/);
  const up = await call('prometheus_targets', { state: 'up' });
  assert.deepEqual((up.data?.targets as { job: string }[]).map((t) => t.job), ['prometheus']);
  const none = await call('prometheus_targets', { job: 'snmp' });
  assert.equal(none.status, 'no_data');
  assert.match(none.text, /no targets of job "snmp" \(jobs: node, prometheus\)/);
});

test('rules: the failing rule first with its error, then firing and pending ones; a type filter reaches Prometheus', async () => {
  const r = await call('prometheus_rules', {});
  assert.deepEqual(r.text.split('\n'), [
    '1 group, 4 rules: 1 failing, 1 firing, 1 pending',
    'ERROR labwatch:clash (labwatch-test, rules.yml) — vector contains metrics with the same labelset after applying rule labels',
    'FIRING AlwaysFiring (labwatch-test, rules.yml)',
    'PENDING TargetDown (labwatch-test, rules.yml)',
    '1 other rule evaluates fine',
  ]);
  const rules = (r.data?.groups as { rules: { name: string; type: string; health: string; state?: string }[] }[])[0]!.rules;
  assert.deepEqual(rules.map((x) => [x.name, x.type, x.health, x.state]), [
    ['AlwaysFiring', 'alerting', 'ok', 'firing'],
    ['TargetDown', 'alerting', 'ok', 'pending'],
    ['job:up:sum', 'recording', 'ok', undefined],
    ['labwatch:clash', 'recording', 'err', undefined],
  ]);
  await call('prometheus_rules', { type: 'record' });
  assert.equal(replay.last('/api/v1/rules')!.params.get('type'), 'record');
  const capped = await call('prometheus_rules', {}, toolbox(2));
  assert.match(capped.text, /2 more rules not listed; filter by group or type/);
  assert.ok(capped.text.includes('ERROR labwatch:clash'), 'a failing rule is never the one left out');
});

test('Prometheus down: every tool fails saying which URL it could not reach', async () => {
  const box = toolbox(50, 500, `http://127.0.0.1:${await freePort()}`);
  for (const name of box.keys()) {
    const r = await call(name, name.startsWith('prometheus_query') ? { expr: 'up' } : {}, box);
    assert.equal(r.status, 'error');
    assert.match(r.text, /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/\w+: connection refused/);
  }
});

test('the default call for an alert with an instance label is up{instance="…"}, escaped', () => {
  const q = toolbox().get('prometheus_query')!;
  const d = (source: string, labels: Record<string, string>) => q.defaultFor!({ source, subject: 'x', labels });
  assert.deepEqual(d('alertmanager', { instance: 'nas:9100' }), { expr: 'up{instance="nas:9100"}' });
  assert.deepEqual(d('prometheus', { instance: 'we"ird\\host' }), { expr: 'up{instance="we\\"ird\\\\host"}' });
  assert.equal(d('smart', { instance: 'nas:9100' }), undefined);
  assert.equal(d('alertmanager', { job: 'node' }), undefined);
});
