/** The Alertmanager tools over a loopback server replaying real answers, called as the model calls them. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { AlertmanagerApi } from '../../../src/connectors/alertmanager/api.ts';
import { alertmanagerConfig } from '../../../src/connectors/alertmanager/config.ts';
import { ms as durationMs } from '../../../src/config/parts.ts';
import { alertmanagerTools, CREATE_SILENCE_TOOL } from '../../../src/connectors/alertmanager/tools.ts';
import { runTool } from '../../../src/tools/run.ts';
import type { ToolSpec } from '../../../src/tools/types.ts';
import { closeServer, listenLoopback } from '../../helpers/loopback.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { readFixture } from '../../helpers/fixtures.ts';

const fixture = (name: string) => readFixture('alertmanager', name);
const NOW = new Date('2026-11-24T20:00:00.000Z');
const noAudit = { record: async () => {} };

/** Alertmanager stand-in: GET paths answer from `routes`, POST /api/v2/silences answers an id. */
async function fakeAm(routes: Record<string, string>) {
  const seen: { method: string; url: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const answer = req.method === 'POST' ? '{"silenceID":"2b1a9e0c-0000-4000-8000-000000000001"}' : routes[path];
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(answer ?? '{"code":404,"message":"not found"}');
    });
  });
  const url = await listenLoopback(server);
  after(() => closeServer(server));
  return { api: new AlertmanagerApi({ url, timeoutMs: 2000 }), seen };
}

function toolsOf(api: AlertmanagerApi, writeTools: string[] = []) {
  const list = alertmanagerTools(api, { writeTools, now: () => NOW });
  const call = (name: string, args: Record<string, unknown> = {}) => {
    const t = list.find((x) => x.name === name);
    assert.ok(t, `no tool ${name}`);
    return runTool(t, args, noAudit, { caller: 'cli' });
  };
  return { list, call };
}

const ALERTS_025 = fixture('api-v2-alerts-silenced-and-active-am0.25.json');

test('alerts: the active one listed before the silenced one, with counts per state and the silence id', async () => {
  const { api } = await fakeAm({ '/api/v2/alerts': ALERTS_025 });
  const r = await toolsOf(api).call('alertmanager_alerts');
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.data!.counts, { active: 1, silenced: 1, inhibited: 0 });
  const alerts = r.data!.alerts as { alertname: string; state: string; silencedBy: string[]; severity: string; instance: string; summary: string }[];
  assert.deepEqual(alerts.map((a) => [a.alertname, a.state]), [['NodeDown', 'active'], ['DiskFull', 'silenced']]);
  assert.deepEqual(alerts[1]!.silencedBy, ['03a99674-6b48-45fb-9417-8ab749b9edc1']);
  assert.equal(alerts[1]!.summary, 'disk full');
  assert.match(r.text, /^2 alerts: 1 active, 1 silenced\nactive \(1\):\n- NodeDown warning pi:9100 since .*: pi is down\nsilenced \(1\):\n- DiskFull critical nas:9100 .*\[silenced by 03a99674/);
});

test('alerts: state=silenced shows only silenced ones, and matchers go to Alertmanager as filters', async () => {
  const { api, seen } = await fakeAm({ '/api/v2/alerts': ALERTS_025 });
  const r = await toolsOf(api).call('alertmanager_alerts', { state: 'silenced', matchers: ['instance=~"nas.*"'] });
  assert.deepEqual((r.data!.alerts as { alertname: string }[]).map((a) => a.alertname), ['DiskFull']);
  assert.deepEqual(new URL(seen[0]!.url, 'http://x').searchParams.getAll('filter'), ['instance=~"nas.*"']);
});

test('alerts: an inhibited alert is shown as inhibited, with the inhibiting alert', async () => {
  const a = JSON.parse(ALERTS_025) as { labels: Record<string, string>; status: Record<string, unknown> }[];
  a[1]!.status = { state: 'suppressed', silencedBy: [], inhibitedBy: ['2e6feafa75c7eef9'] };
  const { api } = await fakeAm({ '/api/v2/alerts': JSON.stringify(a) });
  const r = await toolsOf(api).call('alertmanager_alerts', { state: 'inhibited' });
  assert.equal(r.status, 'ok');
  assert.match(r.text, /inhibited \(1\):\n- NodeDown .*\[inhibited by 2e6feafa75c7eef9\]/);
});

test('alerts: limit cuts the list, not the counts', async () => {
  const { api } = await fakeAm({ '/api/v2/alerts': ALERTS_025 });
  const r = await toolsOf(api).call('alertmanager_alerts', { limit: 1 });
  assert.equal((r.data!.alerts as unknown[]).length, 1);
  assert.equal(r.data!.total, 2);
  assert.match(r.text, /showing 1 of 2/);
});

test('alerts: nothing firing is no_data; nothing in the asked state says what there is', async () => {
  const empty = await fakeAm({ '/api/v2/alerts': '[]' });
  const r = await toolsOf(empty.api).call('alertmanager_alerts');
  assert.equal(r.status, 'no_data');
  assert.equal(r.text, 'Alertmanager has no alerts');
  const one = await fakeAm({ '/api/v2/alerts': fixture('api-v2-alerts-one-active.json') });
  const r2 = await toolsOf(one.api).call('alertmanager_alerts', { state: 'silenced' });
  assert.equal(r2.status, 'no_data');
  assert.equal(r2.text, 'Alertmanager has no silenced alerts (there are 1 active)');
});

test('alerts: a matcher that is not Alertmanager syntax is refused before any request', async () => {
  const { api, seen } = await fakeAm({ '/api/v2/alerts': '[]' });
  const r = await toolsOf(api).call('alertmanager_alerts', { matchers: ['instance=nas:9100'] });
  assert.equal(r.status, 'error');
  assert.match(r.text, /matchers\[0\]: expected a label matcher such as instance="nas:9100"/);
  assert.equal(seen.length, 0);
});

test('alerts: an Alertmanager that is down is an error result saying so', async () => {
  const api = new AlertmanagerApi({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1000 });
  const r = await toolsOf(api).call('alertmanager_alerts');
  assert.equal(r.status, 'error');
  assert.match(r.text, /connection refused/);
});

test('an Alertmanager webhook anomaly defaults to its own alertname', () => {
  const api = new AlertmanagerApi({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
  const t = toolsOf(api).list.find((x) => x.name === 'alertmanager_alerts')!;
  assert.deepEqual(t.defaultFor!({ source: 'alertmanager', subject: 'nas:9100', labels: { alertname: 'Disk "A"' } }), { state: 'all', matchers: ['alertname="Disk \\"A\\""'] });
  assert.equal(t.defaultFor!({ source: 'smart', subject: 'disk:sda', labels: {} }), undefined);
});

test('silences: active ones with matchers, author and comment; expired only when asked', async () => {
  const s = JSON.parse(fixture('api-v2-silences-one-active-am0.25.json')) as Record<string, unknown>[];
  s.push({ ...s[0]!, id: 'old-one', status: { state: 'expired' }, comment: 'last week' });
  const { api } = await fakeAm({ '/api/v2/silences': JSON.stringify(s) });
  const t = toolsOf(api);
  const r = await t.call('alertmanager_silences');
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.data!.silences, [
    {
      id: '03a99674-6b48-45fb-9417-8ab749b9edc1',
      state: 'active',
      matchers: ['alertname="DiskFull"'],
      createdBy: 'labwatch',
      comment: 'replacing the disk',
      startsAt: '2026-11-24T19:54:00.891Z',
      endsAt: '2026-11-24T21:54:00.000Z',
    },
  ]);
  assert.match(r.text, /^03a99674-6b48-45fb-9417-8ab749b9edc1 active until 2026-11-24T21:54:00.000Z: alertname="DiskFull" — by labwatch: replacing the disk$/);
  const all = await t.call('alertmanager_silences', { include_expired: true });
  assert.deepEqual((all.data!.silences as { id: string }[]).map((x) => x.id), ['03a99674-6b48-45fb-9417-8ab749b9edc1', 'old-one']);
});

test('status: version, uptime and cluster state from 0.25; none of its configuration', async () => {
  const { api } = await fakeAm({ '/api/v2/status': fixture('api-v2-status-am0.25.json') });
  const r = await toolsOf(api).call('alertmanager_status');
  assert.equal(r.status, 'ok');
  assert.equal(r.text, 'Alertmanager 0.25.0 (0.25.0-1+b4), up 6m (since 2026-11-24T19:53:59.083Z); cluster disabled');
  assert.equal(r.data!.uptimeSeconds, 361);
  assert.ok(!JSON.stringify(r).includes('resolve_timeout'), 'alertmanager.yml stays out of the result');
});

test('the create-silence tool is offered only when write_tools names it, and is marked as a write', async () => {
  const api = new AlertmanagerApi({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
  assert.deepEqual(toolsOf(api).list.map((t) => t.name), ['alertmanager_alerts', 'alertmanager_silences', 'alertmanager_status']);
  const withWrite = toolsOf(api, [CREATE_SILENCE_TOOL]).list;
  const create = withWrite.find((t) => t.name === 'alertmanager_create_silence') as ToolSpec;
  assert.deepEqual(create.annotations, { readOnly: false, destructive: false, idempotent: false, openWorld: false });
  for (const t of withWrite.filter((x) => x !== create)) assert.equal(t.annotations.readOnly, true, t.name);
});

test('create silence: posted from now for the duration, by "labwatch", returning the id and end', async () => {
  const { api, seen } = await fakeAm({});
  const r = await toolsOf(api, [CREATE_SILENCE_TOOL]).call(CREATE_SILENCE_TOOL, {
    matchers: [{ name: 'alertname', value: 'DiskFull' }, { name: 'instance', value: 'nas:.*', isRegex: true }],
    duration: '2h',
    comment: 'replacing the disk',
  });
  assert.equal(r.status, 'ok', r.text);
  assert.deepEqual(r.data, { silenceId: '2b1a9e0c-0000-4000-8000-000000000001', endsAt: '2026-11-24T22:00:00.000Z', matchers: ['alertname="DiskFull"', 'instance=~"nas:.*"'] });
  const body = JSON.parse(seen[0]!.body);
  assert.deepEqual(body, {
    matchers: [
      { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
      { name: 'instance', value: 'nas:.*', isRegex: true, isEqual: true },
    ],
    startsAt: '2026-11-24T20:00:00.000Z',
    endsAt: '2026-11-24T22:00:00.000Z',
    createdBy: 'labwatch',
    comment: 'replacing the disk',
  });
});

test('create silence: matchers that match every alert are refused without asking Alertmanager', async () => {
  const { api, seen } = await fakeAm({});
  const t = toolsOf(api, [CREATE_SILENCE_TOOL]);
  for (const matchers of [
    [{ name: 'alertname', value: '.*', isRegex: true }],
    [{ name: 'alertname', value: '.+', isRegex: true }, { name: 'instance', value: '(.*)', isRegex: true }],
    [{ name: 'alertname', value: 'Watchdog', isEqual: false }],
  ]) {
    const r = await t.call(CREATE_SILENCE_TOOL, { matchers, duration: '1h', comment: 'quiet please' });
    assert.equal(r.status, 'error', JSON.stringify(matchers));
    assert.match(r.text, /^refused: .* would match \(nearly\) every alert/);
  }
  assert.equal(seen.length, 0);
});

test('create silence: durations outside 30m..7d and short comments are refused', async () => {
  const { api, seen } = await fakeAm({});
  const t = toolsOf(api, [CREATE_SILENCE_TOOL]);
  const m = [{ name: 'alertname', value: 'DiskFull' }];
  for (const duration of ['10m', '8d', '2w', '1h30m']) {
    const r = await t.call(CREATE_SILENCE_TOOL, { matchers: m, duration, comment: 'disk swap' });
    assert.match(r.text, /duration: expected a duration from "30m" to "7d"/, duration);
  }
  assert.match((await t.call(CREATE_SILENCE_TOOL, { matchers: m, duration: '1h', comment: 'ok' })).text, /comment/);
  assert.match((await t.call(CREATE_SILENCE_TOOL, { matchers: [], duration: '1h', comment: 'disk swap' })).text, /matchers/);
  assert.equal(seen.length, 0);
  assert.equal((await t.call(CREATE_SILENCE_TOOL, { matchers: m, duration: '7d', comment: 'disk swap' })).status, 'ok');
});

test('config: defaults to read-only with a 10s timeout; mistakes are refused with their path', () => {
  const c = alertmanagerConfig.parse({ url: 'http://127.0.0.1:9093' });
  assert.deepEqual(c, { url: 'http://127.0.0.1:9093', timeout: '10s', write_tools: [] });
  assert.equal(durationMs(c.timeout), 10_000);
  const bad = (v: unknown) => alertmanagerConfig.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') ?? 'accepted';
  assert.match(bad({ url: 'ftp://am:21' }), /^url: an http:\/\/ or https:\/\/ URL/);
  assert.match(bad({ url: 'http://admin:pw@am:9093' }), /^url: a URL without user:password@/);
  assert.match(bad({ url: 'http://am:9093', timeout: '10 seconds' }), /^timeout: a duration/);
  assert.match(bad({ url: 'http://am:9093', write_tools: ['alertmanager_delete_everything'] }), /^write_tools\.0: a write tool's name/);
  assert.match(bad({ url: 'http://am:9093', bearer_token_file: '/t', basic_auth: { username: 'u', password_file: '/p' } }), /^basic_auth: give bearer_token_file or basic_auth, not both/);
  assert.match(bad({ url: 'http://am:9093', token: 'x' }), /Unrecognized key/);
  assert.deepEqual(alertmanagerConfig.parse({ url: 'https://am.lan/am/', write_tools: [CREATE_SILENCE_TOOL] }).write_tools, ['alertmanager_create_silence']);
});
