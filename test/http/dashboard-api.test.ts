/**
 * The dashboard's API against a real daemon, Redis, SMTP and ntfy stand-ins: log-in, the list,
 * one incident's timeline and report, acting on it (with the session's CSRF token, audited),
 * live updates, drives with their history, and the open dashboard without a token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { driveObservation } from '../../src/connectors/smart/collect.ts';
import { parseSmartctl } from '../../src/connectors/smart/parse.ts';
import { poolObservations } from '../../src/connectors/zfs/collect.ts';
import { parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import type { IncidentDetail, IncidentRow, SessionInfo, SubjectRow } from '../../src/http/api/types.ts';
import { readFixture } from '../helpers/fixtures.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021, MIXED_AM09 } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';

interface Browser {
  cookie?: string;
  csrf?: string;
}

async function call<T>(lab: Lab, path: string, b: Browser, init: { method?: string; body?: unknown; csrf?: boolean; bearer?: boolean } = {}): Promise<{ status: number; json: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (b.cookie) headers.Cookie = b.cookie;
  if (init.csrf && b.csrf) headers['X-CSRF-Token'] = b.csrf;
  if (init.bearer) headers.Authorization = `Bearer ${SECRETS.httpToken}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${lab.url}${path}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const setCookie = res.headers.get('set-cookie');
  if (setCookie) b.cookie = setCookie.split(';')[0];
  return { status: res.status, json: (await res.json()) as T, headers: res.headers };
}

describe('the dashboard API with a token', () => {
  let lab: Lab;
  const alice: Browser = {};
  let critical: IncidentRow;
  before(async () => {
    lab = await startLab({ notifyExtra: { repeat_interval: '1h' } });
  });
  after(async () => {
    await lab.stop();
  });

  test('a person logs in with the token and a name; without it the API answers 401', async () => {
    const stranger: Browser = {};
    const s = await call<SessionInfo>(lab, '/api/session', stranger);
    assert.equal(s.json.loginRequired, true);
    assert.equal(s.json.open, false);
    assert.equal((await call(lab, '/api/incidents', stranger)).status, 401);
    const wrong = await call<{ error: string }>(lab, '/api/login', stranger, { method: 'POST', body: { token: 'not-it', name: 'mallory' } });
    assert.equal(wrong.status, 401);
    assert.equal(stranger.cookie, undefined);
    const ok = await call<SessionInfo>(lab, '/api/login', alice, { method: 'POST', body: { token: SECRETS.httpToken, name: 'alice' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('set-cookie') ?? '', /^labwatch_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
    assert.equal(ok.json.name, 'alice');
    assert.equal(ok.json.writable, true);
    alice.csrf = ok.json.csrf!;
    assert.ok(alice.csrf.length > 20);
    // Only a hash of the session id is in Redis.
    const sessionKeys = await lab.keys('session:*');
    assert.equal(sessionKeys.length, 1);
    assert.ok(!sessionKeys[0]!.includes(alice.cookie!.split('=')[1]!));
  });

  test('the list shows open incidents first by severity, with a one-line cause', async () => {
    assert.equal((await lab.post(MIXED_AM09)).status, 200);
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    // The critical one is mailed at once; the warning goes to ntfy (and the digest).
    await waitFor('the critical email', () => lab.smtp.messages[0]);
    await lab.drained();
    const list = await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents', alice);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.incidents.map((i) => i.severity), ['critical', 'warning']);
    critical = list.json.incidents[0]!;
    assert.equal(critical.title, 'This is a demo');
    assert.ok(critical.cause.length > 0 && !critical.cause.includes('\n'));
    assert.deepEqual(critical.sources, ['alertmanager']);
    const filtered = await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents?severity=warning', alice);
    assert.deepEqual(filtered.json.incidents.map((i) => i.severity), ['warning']);
    const bad = await call<{ error: string }>(lab, '/api/incidents?severity=loud', alice);
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /severity/);
  });

  test("one incident shows its report as sent and a timeline of its alert, report and deliveries", async () => {
    const d = await call<IncidentDetail>(lab, `/api/incidents/${critical.id}`, alice);
    assert.equal(d.status, 200);
    assert.equal(d.json.report?.title, 'This is a demo');
    assert.match(d.json.reportHtml ?? '', /This is a demo/);
    const kinds = d.json.timeline.map((e) => e.kind);
    for (const k of ['opened', 'anomaly-firing', 'report', 'notification']) assert.ok(kinds.includes(k as never), `timeline has ${k}: ${kinds.join(', ')}`);
    assert.ok(d.json.timeline.some((e) => e.kind === 'notification' && e.text === 'sent by email'));
    assert.deepEqual(d.json.can, { acknowledge: true, snooze: true, resolve: true, silence: false });
    assert.equal((await call(lab, '/api/incidents/inc-0000000000-zz', alice)).status, 404);
    assert.equal((await call(lab, '/api/incidents/not-an-id', alice)).status, 400);
  });

  test('acknowledging needs the CSRF token, is shown to everyone and audited, and stops reminders', async () => {
    const forged = await call<{ error: string }>(lab, `/api/incidents/${critical.id}/acknowledge`, alice, { method: 'POST', body: {} });
    assert.equal(forged.status, 403);
    assert.match(forged.json.error, /CSRF/);
    // Who acted is the session's person, never the body's word.
    const forgedBy = await call<{ error: string }>(lab, `/api/incidents/${critical.id}/acknowledge`, alice, { method: 'POST', body: { by: 'bob' }, csrf: true });
    assert.equal(forgedBy.status, 400);
    const acked = await call<{ attention: { acknowledged?: { by: string } } }>(lab, `/api/incidents/${critical.id}/acknowledge`, alice, { method: 'POST', body: {}, csrf: true });
    assert.equal(acked.status, 200);
    assert.equal(acked.json.attention.acknowledged?.by, 'alice');
    // A script with the bearer token sees the same, without a session.
    const seen = await call<IncidentDetail>(lab, `/api/incidents/${critical.id}`, {}, { bearer: true });
    assert.equal(seen.json.incident.attention.acknowledged?.by, 'alice');
    assert.ok(seen.json.timeline.some((e) => e.kind === 'acknowledged' && e.text === 'acknowledged by alice'));
    const audit = await call<{ entries: { tool: string; incident?: string; caller: string }[] }>(lab, '/api/audit', alice);
    assert.ok(audit.json.entries.some((e) => e.tool === 'incident_acknowledge' && e.incident === critical.id && e.caller === 'dashboard'));
    // Two hours on, only the incident nobody acknowledged is reminded of.
    const reminded = await lab.daemon.reminders!.sweep(new Date(Date.now() + 2 * 3600_000));
    assert.equal(reminded, 1);
    assert.equal((await lab.daemon.actions.attention(critical.id)).acknowledged?.by, 'alice');
  });

  test('a change made anywhere reaches an open page as a server-sent event', async () => {
    const warning = (await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents?severity=warning', alice)).json.incidents[0]!;
    const ac = new AbortController();
    const res = await fetch(`${lab.url}/api/events`, { headers: { Cookie: alice.cookie! }, signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const got = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString('utf8');
        if (text.includes(`"id":"${warning.id}"`) && text.includes('"snoozedUntil"')) return;
      }
    })();
    await waitFor('the stream to open', () => text.length > 0 || undefined);
    // Another client (a script) snoozes it.
    const snoozed = await call<{ attention: { snoozedUntil?: { until: string } } }>(lab, `/api/incidents/${warning.id}/snooze`, {}, { method: 'POST', body: { duration: '4h' }, bearer: true });
    assert.equal(snoozed.status, 200);
    await got;
    ac.abort();
    assert.match(text, /^event: incident$/m);
    const bad = await call<{ error: string }>(lab, `/api/incidents/${warning.id}/snooze`, {}, { method: 'POST', body: { duration: 'forever' }, bearer: true });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /duration such as/);

    // While snoozed, an update that escalates nothing is kept for the dashboard, not sent.
    const pushes = lab.ntfy.published.length;
    const body = JSON.parse(MIXED_AM09) as { alerts: { status: string; endsAt: string }[] };
    // Derived from the real capture: its resolved alert fires again (status and endsAt as Alertmanager sets them).
    Object.assign(body.alerts[1]!, { status: 'firing', endsAt: '0001-01-01T00:00:00Z' });
    assert.equal((await lab.post(JSON.stringify(body))).status, 200);
    await waitFor('the update to be triaged', async () => ((await call<IncidentDetail>(lab, `/api/incidents/${warning.id}`, alice)).json.report?.revision ?? 0) > warning.revision || undefined);
    await lab.drained();
    assert.equal(lab.ntfy.published.length, pushes, 'no push for the snoozed update');
    assert.ok(lab.logs.some((l) => l.includes('incident snoozed: update not sent')));

    // A critical alert joining it is sent all the same: the snooze was for a warning.
    const critical = JSON.parse(JSON.stringify(body)) as { alerts: { labels: Record<string, string> }[] };
    critical.alerts.push({ ...JSON.parse(JSON.stringify(body.alerts[0])), labels: { ...critical.alerts[0]!.labels, instance: 'a2', severity: 'critical' } } as never);
    assert.equal((await lab.post(JSON.stringify(critical))).status, 200);
    await waitFor('the escalation to be sent despite the snooze', () => lab.smtp.messages.find((m) => /^\[CRITICAL\].*ServerStop/.test(m.parsed.subject ?? '')));
    await lab.drained();
  });

  test('resolving by hand resolves the incident through the usual path and reports it', async () => {
    const mails = lab.smtp.messages.length;
    const r = await call<{ ok: boolean }>(lab, `/api/incidents/${critical.id}/resolve`, alice, { method: 'POST', body: {}, csrf: true });
    assert.equal(r.status, 200);
    const resolution = await waitFor('the resolution email', () => lab.smtp.messages.slice(mails).find((m) => /RESOLVED/.test(m.parsed.subject ?? '')));
    assert.match(resolution.parsed.subject ?? '', /This is a demo/);
    const d = await call<IncidentDetail>(lab, `/api/incidents/${critical.id}`, alice);
    assert.equal(d.json.incident.status, 'resolved');
    assert.ok(d.json.timeline.some((e) => e.kind === 'resolved-by-hand' && /alice/.test(e.text)));
    const again = await call<{ error: string }>(lab, `/api/incidents/${critical.id}/acknowledge`, alice, { method: 'POST', body: {}, csrf: true });
    assert.equal(again.status, 409);
    assert.match(again.json.error, /already resolved/);
    // Alertmanager keeps re-sending the same firing alert until its source clears: it stays resolved.
    const resent = await lab.post(FIRING_AM021);
    assert.deepEqual(resent.json.incidents, [critical.id]);
    await lab.drained();
    assert.equal((await call<IncidentDetail>(lab, `/api/incidents/${critical.id}`, alice)).json.incident.status, 'resolved');
    const firing = await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents', alice);
    assert.ok(!firing.json.incidents.some((i) => i.title === 'This is a demo'), 'no new incident for the same alert');
  });

  test('drives show their latest reading and the kept history', async () => {
    const now = new Date();
    const earlier = new Date(now.getTime() - 3600_000);
    const doc = readFixture('smartctl', 'sata-ssd-healthy-samsung-860evo-xall.json');
    const drive = (at: Date) => driveObservation(parseSmartctl(doc, 0, { device: '/dev/sda', type: 'sat' }, 3), 'nas', at.toISOString());
    await lab.daemon.rules.observe([drive(earlier)], { now: earlier });
    await lab.daemon.rules.observe([drive(now)], { now });
    const s = await call<{ subjects: SubjectRow[] }>(lab, '/api/subjects?kind=drive', alice);
    const row = s.json.subjects.find((x) => x.subject === 'disk:S3YZNB0KB00864E');
    assert.ok(row, 'the drive is listed');
    assert.equal(row.host, 'nas');
    assert.equal(typeof row.values.temperature_c, 'number');
    const h = await call<{ points: { values: Record<string, number> }[] }>(lab, `/api/subjects/${encodeURIComponent(row.subject)}/history`, alice);
    assert.equal(h.json.points.length, 2);
    assert.equal(typeof h.json.points[0]!.values.temperature_c, 'number');

    // A pool and its vdev tree (a real DEGRADED pool).
    const [pool] = parseZpoolStatusText(readFixture('zpool', 'status-degraded-removed-device.txt'));
    await lab.daemon.rules.observe(poolObservations({ health: pool! }, 'nas', now), { now });
    const pools = await call<{ subjects: SubjectRow[] }>(lab, '/api/subjects?kind=pool', alice);
    const p = pools.json.subjects.find((x) => x.subject === `pool:${pool!.name}`);
    assert.equal(p?.values.state, 'DEGRADED');
    const vdevs = await call<{ subjects: SubjectRow[] }>(lab, '/api/subjects?kind=vdev', alice);
    const faulted = vdevs.json.subjects.filter((v) => v.values.pool === pool!.name && v.values.state !== 'ONLINE');
    assert.ok(faulted.length > 0, 'the faulted device is in the tree');
    assert.match(String(faulted[0]!.values.state), /^(FAULTED|UNAVAIL|DEGRADED|OFFLINE|REMOVED)$/);
    // Everything else observed is listed too, summary line or not; the collectors' own health only when asked.
    const all = await call<{ subjects: SubjectRow[] }>(lab, '/api/subjects', alice);
    assert.deepEqual([...new Set(all.json.subjects.map((x) => x.kind))].sort(), ['drive', 'pool', 'vdev']);
  });

  test("labwatch's own status names its channels, queues and AI state", async () => {
    const s = await call<{ channels: { name: string; circuit: string }[]; ai: { enabled: boolean }; redis: { up: boolean }; queues: Record<string, unknown> }>(lab, '/api/status', alice);
    assert.deepEqual(s.json.channels.map((c) => `${c.name}:${c.circuit}`).sort(), ['email:closed', 'ntfy:closed']);
    assert.equal(s.json.ai.enabled, false);
    assert.equal(s.json.redis.up, true);
    assert.ok('notify' in s.json.queues);
  });

  test('logging out ends the session', async () => {
    const out = await call(lab, '/api/logout', alice, { method: 'POST', body: {} });
    assert.equal(out.status, 200);
    assert.equal((await call(lab, '/api/incidents', alice)).status, 401);
  });
});

describe('the dashboard API without a token, on loopback', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ token: false });
  });
  after(async () => {
    await lab.stop();
  });

  test('is open and says so, and its actions still need the CSRF token of the session it hands out', async () => {
    const b: Browser = {};
    const s = await call<SessionInfo>(lab, '/api/session', b);
    assert.equal(s.json.open, true);
    assert.equal(s.json.loginRequired, false);
    assert.equal(s.json.writable, true);
    assert.match(s.json.banner ?? '', /open/);
    b.csrf = s.json.csrf!;
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    const id = await waitFor('the incident', async () => (await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents', b)).json.incidents[0]?.id);
    assert.equal((await call(lab, `/api/incidents/${id}/acknowledge`, { cookie: b.cookie! }, { method: 'POST', body: {} })).status, 403);
    const acked = await call<{ attention: { acknowledged?: { by: string } } }>(lab, `/api/incidents/${id}/acknowledge`, b, { method: 'POST', body: {}, csrf: true });
    assert.equal(acked.json.attention.acknowledged?.by, 'local user');
    // A page on another site cannot reach it (DNS rebinding).
    const foreign = await fetch(`${lab.url}/api/incidents`, { headers: { Origin: 'http://attacker.example' } });
    assert.equal(foreign.status, 403);
  });
});

describe('the dashboard API without a token, beyond loopback', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ token: false, listen: '0.0.0.0:0' });
  });
  after(async () => {
    await lab.stop();
  });

  test('is read-only: anyone on the network may look, nobody may act', async () => {
    const b: Browser = {};
    const s = await call<SessionInfo>(lab, '/api/session', b);
    assert.equal(s.json.writable, false);
    assert.match(s.json.banner ?? '', /read-only/);
    assert.equal(b.cookie, undefined, 'no session is handed out');
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    const id = await waitFor('the incident', async () => (await call<{ incidents: IncidentRow[] }>(lab, '/api/incidents', b)).json.incidents[0]?.id);
    const refused = await call<{ error: string; hint: string }>(lab, `/api/incidents/${id}/acknowledge`, b, { method: 'POST', body: {} });
    assert.equal(refused.status, 403);
    assert.match(refused.json.error, /beyond loopback without http.token_file/);
    assert.equal((await lab.daemon.actions.attention(id)).acknowledged, undefined);
  });
});

describe('stopping the daemon', () => {
  test('ends open dashboard streams instead of waiting on them', async () => {
    const lab = await startLab();
    const res = await fetch(`${lab.url}/api/events`, { headers: { Authorization: `Bearer ${SECRETS.httpToken}` } });
    const reader = res.body!.getReader();
    await reader.read();
    const started = Date.now();
    await lab.stop();
    const { done } = await reader.read();
    assert.equal(done, true, 'the stream ended');
    assert.ok(!lab.logs.some((l) => l.includes('http server did not stop')), 'the HTTP server stopped in time');
    assert.ok(Date.now() - started < 10_000);
  });
});
