/**
 * A Proxmox Backup Server read through its API: the collector's observations, judged by the
 * shipped rules (rules/*.yaml, the evaluation the daemon runs), against a loopback HTTPS stand-in
 * pinned by fingerprint. The stand-in fails the test on any call that is not a GET with the token.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pbsCollector } from '../../../src/connectors/proxmox_backup/collect.ts';
import { pbsConfig } from '../../../src/connectors/proxmox_backup/config.ts';
import { PbsReader } from '../../../src/connectors/proxmox_backup/read.ts';
import type { Anomaly, Observation } from '../../../src/connectors/types.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { NOW, PBS_SECRET, pbsStandIn, startPbs, type PbsStandIn } from '../../helpers/proxmox-backup.ts';

const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;
const HOUR_S = 3600;
const nowS = NOW / 1000;

/** What the shipped rules raise for these observations (a `for:` taken as already held). */
function raised(obs: Observation[]): Anomaly[] {
  return obs.flatMap((o) => {
    const ctx = contextFor(o, undefined, [], new Date(o.at));
    return rulesFor(RULES, o).flatMap((r) => evaluateRule(r, o, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? []);
  });
}

describe('a Proxmox Backup Server through its API', () => {
  let pbs: PbsStandIn;
  before(async () => {
    pbs = await startPbs();
  });
  after(() => pbs.close());

  const collector = (extra: Record<string, unknown> = {}, at = NOW) => {
    const block = pbsConfig.parse(pbs.block(extra));
    return pbsCollector({ reader: PbsReader.of(block, PBS_SECRET), host: 'pbs.lab', judge: { maxAgeHours: 36, ignore: block.ignore }, clock: () => at });
  };
  const poll = (c = collector()) => c.collect(AbortSignal.timeout(10_000));

  beforeEach(() => {
    pbs.set('/status/datastore-usage', pbsStandIn('datastore-usage.data.json'));
    pbs.set('/admin/datastore/main/groups', pbsStandIn('groups-main.data.json'));
    pbs.api.fault('/api2/json/admin/datastore/archive/groups', undefined);
    pbs.tasks.splice(0, pbs.tasks.length, ...pbsStandIn<Record<string, unknown>[]>('tasks-healthy.data.json'));
  });

  test('a healthy server raises nothing, and a poll is a handful of GETs', async () => {
    const c = collector();
    pbs.api.take();
    const obs = await poll(c);
    assert.deepEqual(raised(obs).map((a) => a.summary), []);
    const main = obs.find((o) => o.subject === 'pbs-datastore:main')!;
    assert.equal(main.host, 'pbs.lab');
    assert.equal(main.values.used_pct, 41);
    assert.equal(main.values.estimated_full, '2027-06-19');
    assert.equal(main.values.gc_last_state, 'OK');
    assert.equal(obs.find((o) => o.subject === 'pbs-datastore:archive')!.values.estimated_full, '', 'usage that does not grow has no full date');
    const web01 = obs.find((o) => o.subject === 'pbs-backup:main/vm/101')!;
    assert.equal(web01.group, 'vm:101', "a guest's backups join the guest's incident");
    assert.deepEqual({ age: web01.values.age_hours, verify: web01.values.last_verify, comment: web01.values.comment, count: web01.values.count }, { age: 7.9, verify: 'ok', comment: 'web01', count: 3 });
    assert.equal(obs.find((o) => o.subject === 'pbs-backup:main/host/nas')!.group, undefined);
    assert.equal(obs.find((o) => o.subject === 'pbs-backup:archive/vm/300')!.values.ignored, true);
    assert.ok(obs.filter((o) => o.kind === 'collector').every((o) => o.values.ok === true));
    const first = pbs.api.take();
    assert.ok(first.every((l) => l.startsWith('GET /api2/json/')), first.join('\n'));
    // usage, datastores, tasks, 2 × groups, and each group's verify state once (4 + 1 groups, one by one)
    assert.equal(first.length, 10, first.join('\n'));
    await poll(c);
    const second = pbs.api.take();
    // verify states are remembered: usage, datastores, tasks and the groups of each datastore
    assert.equal(second.length, 5, second.join('\n'));
  });

  test('verify states are read again after a verify job ran, and in one call for a datastore of many groups', async () => {
    const groups = pbsStandIn<Record<string, unknown>[]>('groups-main.data.json');
    pbs.set('/admin/datastore/main/groups', [...groups, ...['102', '103', '104'].map((id) => ({ ...groups[0], 'backup-id': id }))]);
    const c = collector();
    pbs.api.take();
    await poll(c);
    const snapshotCalls = () => pbs.api.take().filter((l) => l.includes('/snapshots'));
    assert.deepEqual(snapshotCalls(), ['GET /api2/json/admin/datastore/main/snapshots', 'GET /api2/json/admin/datastore/archive/snapshots?backup-type=vm&backup-id=300']);
    await poll(c);
    assert.deepEqual(snapshotCalls(), [], 'nothing changed: remembered');
    pbs.tasks.unshift({ upid: 'UPID:pbs:00001A2B:003E8F12:00000065:6B0E7070:verify:main:root@pam:', node: 'pbs', pid: 6699, pstart: 4099858, starttime: nowS, worker_type: 'verify', worker_id: 'main', user: 'root@pam', endtime: nowS + 60, status: 'OK' });
    await poll(c);
    assert.deepEqual(snapshotCalls(), ['GET /api2/json/admin/datastore/main/snapshots'], 'a verify of main ended since the last poll');
  });

  test('a VM whose newest backup is 3 days old is reported with its age, as part of the guest', async () => {
    const groups = pbsStandIn<Record<string, unknown>[]>('groups-main.data.json').map((g) => (g['backup-id'] === '101' ? { ...g, 'last-backup': nowS - 72 * HOUR_S } : g));
    pbs.set('/admin/datastore/main/groups', groups);
    const stale = raised(await poll()).filter((a) => a.rule === 'pbs-backup-too-old');
    assert.equal(stale.length, 1, JSON.stringify(stale.map((a) => a.summary)));
    assert.equal(stale[0]!.subject, 'pbs-backup:main/vm/101');
    assert.match(stale[0]!.summary, /VM 101 \(web01\) was last backed up 3 days ago/);
    assert.equal(stale[0]!.severity, 'warning');
    assert.equal(stale[0]!.groupKey, 'watch:pbs.lab|vm:101');
  });

  test('a datastore at 92 % is a warning that gives the date PBS expects it full', async () => {
    const usage = pbsStandIn<Record<string, number | string>[]>('datastore-usage.data.json').map((u) =>
      u.store === 'main' ? { ...u, used: Math.round((u.total as number) * 0.92), avail: Math.round((u.total as number) * 0.08), 'estimated-full-date': nowS + 20 * 86_400 } : u,
    );
    pbs.set('/status/datastore-usage', usage);
    const full = raised(await poll()).filter((a) => a.rule === 'pbs-datastore-full');
    assert.equal(full.length, 1);
    assert.equal(full[0]!.severity, 'warning');
    assert.equal(full[0]!.summary, 'PBS datastore main is 92 % full; PBS estimates it full on 2026-12-21');
  });

  test("a failed verify job is reported with its log's telling lines, and the snapshot it found bad as unrestorable", async () => {
    const upid = 'UPID:pbs:00001A2B:003E8F12:00000063:6B0E7070:verificationjob:main\\x3av-3f2a1b7c:root@pam:';
    pbs.tasks.unshift({ upid, node: 'pbs', pid: 6699, pstart: 4099858, starttime: nowS - HOUR_S, worker_type: 'verificationjob', worker_id: 'main:v-3f2a1b7c', user: 'root@pam', endtime: nowS - HOUR_S + 27, status: 'verification failed - please check the log for details' });
    pbs.api.route(`/api2/json/nodes/localhost/tasks/${upid}/log`, { data: pbsStandIn('task-log-verify-failed.data.json') });
    // the stand-in's newest vm/101 snapshot, marked failed by that job
    const snapshots = pbsStandIn<Record<string, unknown>[]>('snapshots-main.data.json');
    const newest = Math.max(...snapshots.filter((s) => s['backup-id'] === '101').map((s) => s['backup-time'] as number));
    const marked = snapshots.map((s) => (s['backup-id'] === '101' && s['backup-time'] === newest ? { ...s, verification: { upid, state: 'failed' } } : s));
    pbs.api.route('/api2/json/admin/datastore/main/snapshots', (_req, url) => ({ data: marked.filter((s) => !url.searchParams.get('backup-id') || s['backup-id'] === url.searchParams.get('backup-id')) }));
    try {
      const anomalies = raised(await poll());
      const task = anomalies.find((a) => a.rule === 'pbs-task-failed');
      assert.ok(task, JSON.stringify(anomalies.map((a) => `${a.rule} ${a.summary}`)));
      assert.equal(task.subject, 'pbs-task:verificationjob/main:v-3f2a1b7c');
      assert.equal(task.summary, 'PBS verify job main:v-3f2a1b7c failed: verification failed - please check the log for details');
      assert.match(task.description!, /can't verify chunk, load failed/);
      assert.match(task.description!, /Failed to verify the following snapshots\/groups:/);
      assert.match(task.description!, /TASK ERROR: verification failed/);
      assert.doesNotMatch(task.description!, /percentage done/, 'progress lines are not the tail');
      const verify = anomalies.find((a) => a.rule === 'pbs-verify-failed');
      assert.ok(verify);
      assert.equal(verify.severity, 'critical');
      assert.match(verify.summary, /vm 101 \(web01\) on main failed verification: it cannot be restored/);
    } finally {
      pbs.api.route('/api2/json/admin/datastore/main/snapshots', (_req, url) => ({ data: snapshots.filter((s) => !url.searchParams.get('backup-id') || s['backup-id'] === url.searchParams.get('backup-id')) }));
    }
  });

  test('a later successful run of the same job clears a failure', async () => {
    pbs.tasks.push({ upid: 'UPID:pbs:00001A2B:003E8F12:00000064:6B0D0000:garbage_collection:main:root@pam:', node: 'pbs', pid: 6699, pstart: 4099858, starttime: nowS - 30 * HOUR_S, worker_type: 'garbage_collection', worker_id: 'main', user: 'root@pam', endtime: nowS - 30 * HOUR_S + 5, status: 'No space left on device (os error 28)' });
    const obs = await poll();
    const gc = obs.find((o) => o.subject === 'pbs-task:garbage_collection/main');
    assert.equal(gc?.values.failed, false, 'the GC of 6 h ago succeeded');
    assert.deepEqual(raised(obs).filter((a) => a.rule === 'pbs-task-failed'), []);
  });

  test('a failed job whose log cannot be read is still reported, and the unreadable log is named', async () => {
    pbs.tasks.unshift({ upid: 'UPID:pbs:00001A2B:003E8F12:00000066:6B0E7070:syncjob:offsite\\x3amain\\x3as-1:root@pam:', node: 'pbs', pid: 6699, pstart: 4099858, starttime: nowS - 2 * HOUR_S, worker_type: 'syncjob', worker_id: 'offsite:main:s-1', user: 'root@pam', endtime: nowS - 2 * HOUR_S + 3, status: 'error trying to connect: tcp connect error: Connection refused (os error 111)' });
    const obs = await poll();
    const sync = raised(obs).find((a) => a.rule === 'pbs-task-failed');
    assert.equal(sync?.summary, 'PBS sync job offsite:main:s-1 failed: error trying to connect: tcp connect error: Connection refused (os error 111)');
    assert.equal(sync.description, 'Its log could not be read yet.');
    const tasks = obs.find((o) => o.subject === 'collector:proxmox_backup/tasks')!;
    assert.equal(tasks.values.ok, false);
    assert.match(String(tasks.values.error), /\/log answered HTTP 501/);
  });

  test('a datastore whose groups the token may not read is named with the missing privilege; the other is still read', async () => {
    pbs.api.fault('/api2/json/admin/datastore/archive/groups', { status: 403, reason: 'permission check failed' });
    const obs = await poll();
    const archive = obs.find((o) => o.subject === 'collector:proxmox_backup/archive')!;
    assert.equal(archive.values.ok, false);
    assert.match(String(archive.values.error), /\/admin\/datastore\/archive\/groups is not allowed for this token \(HTTP 403 permission check failed\)/);
    assert.match(String(archive.values.error), /Audit role on \//);
    assert.ok(obs.some((o) => o.subject === 'pbs-backup:main/vm/101'), 'main is still read');
    const failing = raised(obs).filter((a) => a.rule === 'labwatch-collector-failing');
    assert.deepEqual(failing.map((a) => a.subject), ['collector:proxmox_backup/archive']);
  });
});
