/** `labwatch incidents …` as a person runs it (the real bin, real Redis), on an incident from a real Alertmanager capture. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../src/connectors/alertmanager/webhook.ts';
import { IncidentStore } from '../src/incidents/store.ts';
import { ReportStore } from '../src/triage/reports.ts';
import { TEST_REDIS_URL } from './helpers/lab.ts';
import { FIRING_AM021 } from './helpers/payloads.ts';
import { runLabwatch } from './helpers/process.ts';
import { reportOn } from './helpers/reports.ts';

const prefix = `lwtest-cli-incidents-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'labwatch-cli-incidents-'));
const me = `${userInfo().username}@${hostname()}`;
let redis: Redis;

before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** A config with a prefix of its own, holding one firing incident: Alertmanager 0.21's DemoAlert on ni3. */
async function seeded(name: string) {
  const p = `${prefix}-${name}`;
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, `audit:\n  file: ${join(dir, `${name}-audit.jsonl`)}\nredis:\n  url: "${TEST_REDIS_URL}"\n  prefix: ${p}\n`);
  const store = new IncidentStore(redis, p, 3600);
  const committed = await store.ingest(alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021))));
  const incident = committed!.incident!;
  const run = (...args: string[]) => runLabwatch(['incidents', ...args, '--config', config], dir);
  return { p, config, store, incident, id: incident.id, run };
}

// Each test has its own prefix, so they run at once (each command is a process of its own).
describe('labwatch incidents', { concurrency: true }, () => {
  test('list shows the firing incident as a table, and as the API rows with --json', async () => {
    const { id, incident, run } = await seeded('list');
    const table = await run('list');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+SEVERITY\s+STATUS\s+AGE\s+HOST\s+ATTENTION\s+TITLE$/m);
    assert.match(table.stdout, new RegExp(`^${id}\\s+critical\\s+firing\\s+\\d+[smhd]\\s+ni3\\s+-\\s+${incident.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const json = await run('list', '--json', '--host', 'ni3', '--severity', 'critical,warning');
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as { id: string; status: string; host: string; firing: number; attention: object }[];
    assert.deepEqual(rows.map((r) => [r.id, r.status, r.host, r.firing, r.attention]), [[id, 'firing', 'ni3', 1, {}]]);
    const none = await run('list', '--state', 'resolved');
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'no resolved incidents\n');
    const bad = await run('list', '--state', 'open');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'labwatch: --state open: give firing, resolved or all\n');
  });

  test('show prints the incident and its report as sent, or says it is not reported yet', async () => {
    const { p, id, incident, store, run } = await seeded('show');
    const before = await run('show', id);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, new RegExp(`^${id} · CRITICAL · ni3$`, 'm'));
    assert.ok(before.stdout.includes(`\n${incident.title}\n`), before.stdout);
    assert.match(before.stdout, /^Not acknowledged \(labwatch incidents ack /m);
    assert.match(before.stdout, /^ {2}firing {3}critical DemoAlert · /m);
    assert.match(before.stdout, /^Report: not reported yet$/m);

    const report = { ...reportOn(), incidentId: id, revision: incident.revision };
    // As triage does it: claim the due report, save it, mark the revision reported.
    assert.deepEqual(await store.claimReport(id, 'triage-test'), { state: 'claimed' });
    await new ReportStore(redis, p, 3600).saveReport(report);
    await store.finishReport(id, 'triage-test', incident.revision);
    const after = await run('show', id);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /^Report \(revision 1, as sent\)$/m);
    assert.ok(after.stdout.includes(report.summary), after.stdout);
    assert.match(after.stdout, new RegExp(`^labwatch · incident ${id} · revision 1 · deterministic report$`, 'm'));
    assert.match(after.stdout, /^AI triage is off\.$/m);
  });

  test('ack makes show say who acknowledged it, in the action log too', async () => {
    const { id, run } = await seeded('ack');
    const ack = await run('ack', id);
    assert.equal(ack.code, 0, ack.stderr);
    assert.equal(ack.stdout, `${id} acknowledged by ${me}: reminders stop until it resolves\n`);
    const shown = await run('show', id);
    assert.match(shown.stdout, new RegExp(`^Acknowledged by ${me} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`, 'm'));
    assert.match(shown.stdout, new RegExp(`^ {2}\\S+ \\S+ UTC {2}acknowledged by ${me} \\(cli\\)$`, 'm'));
    const listed = await run('list');
    assert.match(listed.stdout, new RegExp(`^${id} .* ack ${me} `, 'm'));
  });

  test('an unknown or malformed id, or an unreachable Redis, is one line on stderr and exit 1', async () => {
    const { run } = await seeded('unknown');
    const unknown = await run('ack', 'inc-0000000000-zz');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.equal(unknown.stderr, 'labwatch: no incident inc-0000000000-zz (resolved incidents are kept for incidents.retention)\n');
    const malformed = await run('show', '42');
    assert.equal(malformed.code, 1);
    assert.equal(malformed.stderr, 'labwatch: "42" is not an incident id; ids look like inc-0123456789-mwv0a5ue (labwatch incidents list shows them)\n');
    const down = join(dir, 'down.yaml');
    writeFileSync(down, 'redis:\n  url: "redis://127.0.0.1:1"\n');
    const away = await runLabwatch(['incidents', 'list', '--config', down], dir);
    assert.equal(away.code, 1);
    assert.match(away.stderr, /^labwatch: Redis redis:\/\/127\.0\.0\.1:1 unreachable \(.+\); is redis-server running and redis\.url right\?\n$/);
  });

  test('snooze 24h shows until when; a bad duration is refused; unsnooze ends it', async () => {
    const { id, run } = await seeded('snooze');
    const bad = await run('snooze', id, 'tomorrow');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'labwatch: "tomorrow" is not a duration; give e.g. 30m, 24h or 7d (from 1 minute to 30 days)\n');
    const tooLong = await run('snooze', id, '90d');
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /^labwatch: a snooze lasts from 1 minute to 30 days; got 7776000 s\n$/);
    const t0 = Date.now();
    const snooze = await run('snooze', id, '24h');
    assert.equal(snooze.code, 0, snooze.stderr);
    const until = /snoozed until (\S+ \S+) UTC/.exec(snooze.stdout)?.[1];
    assert.ok(until, snooze.stdout);
    const untilMs = Date.parse(`${until.replace(' ', 'T')}Z`);
    assert.ok(Math.abs(untilMs - (t0 + 86_400_000)) < 60_000, `${until} is 24 h from now`);
    const shown = await run('show', id);
    assert.match(shown.stdout, new RegExp(`^Snoozed until ${until} UTC by ${me}$`, 'm'));
    const unsnooze = await run('unsnooze', id);
    assert.equal(unsnooze.code, 0, unsnooze.stderr);
    assert.doesNotMatch((await run('show', id)).stdout, /^Snoozed until/m);
  });

  test('resolve resolves the incident by hand, audited as the cli; resolving again is refused', async () => {
    const { p, id, store, run } = await seeded('resolve');
    const resolved = await run('resolve', id);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.stdout, /the resolution is reported by the running daemon/);
    const now = await store.getIncident(id);
    assert.equal(now!.status, 'resolved');
    assert.deepEqual((await store.pendingOutbox()).map((o) => o.id), [id], 'the resolution waits in the outbox for the daemon to report it');
    const again = await run('resolve', id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`^labwatch: incident ${id} is already resolved \\(at .+\\); nothing to do\\n$`));
    const entries = (await redis.xrange(`${p}:audit`, '-', '+')).map(([, f]) => JSON.parse(f[1]!) as Record<string, unknown>);
    assert.deepEqual(
      entries.map((e) => [e.caller, e.tool, e.incident, e.outcome, e.bytes]),
      [
        ['cli', 'incident_resolve', id, 'ok', 0],
        ['cli', 'incident_resolve', id, 'error', 0],
      ],
    );
    const shown = await run('show', id);
    assert.match(shown.stdout, new RegExp(`^${id} · RESOLVED · ni3$`, 'm'));
    assert.match(shown.stdout, new RegExp(`resolved-by-hand by ${me} \\(cli\\)$`, 'm'));
  });
});
