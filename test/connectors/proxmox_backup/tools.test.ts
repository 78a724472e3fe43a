/** The pbs_* tools against the loopback stand-in: what a person asking about backups gets back. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pbsConfig } from '../../../src/connectors/proxmox_backup/config.ts';
import { PbsReader } from '../../../src/connectors/proxmox_backup/read.ts';
import { pbsTools } from '../../../src/connectors/proxmox_backup/tools.ts';
import type { ToolSpec } from '../../../src/tools/types.ts';
import { NOW, PBS_SECRET, pbsStandIn, startPbs, type PbsStandIn } from '../../helpers/proxmox-backup.ts';

const nowS = NOW / 1000;

describe('the Proxmox Backup Server tools', () => {
  let pbs: PbsStandIn;
  let tools: Map<string, ToolSpec>;
  before(async () => {
    pbs = await startPbs();
    const block = pbsConfig.parse(pbs.block());
    tools = new Map(pbsTools(PbsReader.of(block, PBS_SECRET), { maxAgeHours: 36, ignore: block.ignore }, () => NOW).map((t) => [t.name, t]));
  });
  after(() => pbs.close());
  const run = (name: string, input: Record<string, unknown> = {}) => tools.get(name)!.run(input as never, AbortSignal.timeout(10_000));

  test('every tool is read-only', () => {
    assert.deepEqual([...tools.keys()], ['pbs_datastores', 'pbs_backups', 'pbs_tasks']);
    for (const t of tools.values()) assert.equal(t.annotations.readOnly, true);
  });

  test('pbs_datastores gives usage, PBS\'s full date and the last garbage collection', async () => {
    const r = await run('pbs_datastores');
    assert.equal(r.status, 'ok');
    assert.match(r.text, /^main: 41 % used \(2932.9 GiB of 7153.5 GiB\), full around 2027-06-19; last GC 2026-12-01T04:00:00.000Z$/m);
    assert.match(r.text, /^archive: 30 % used/m);
  });

  test('"which VMs have no recent backup?" is answered by the stale rows, oldest first', async () => {
    const groups = pbsStandIn<Record<string, unknown>[]>('groups-main.data.json').map((g) => (g['backup-id'] === '101' ? { ...g, 'last-backup': nowS - 80 * 3600 } : g));
    pbs.set('/admin/datastore/main/groups', groups);
    try {
      const r = await run('pbs_backups', { type: 'vm' });
      assert.equal(r.status, 'ok');
      assert.match(r.text, /^1 of 3 groups have no backup newer than 36 h:\nvm\/101 \(web01\) on main: 3 days 8 hours ago, 3 snapshots, verify ok$/m);
      const rows = r.data!.groups as { id: string; stale: boolean; ignored: boolean; age_hours: number }[];
      assert.deepEqual(rows.map((g) => [g.id, g.stale, g.ignored]), [['101', true, false], ['300', false, true], ['100', false, false]]);
      assert.equal(rows[0]!.age_hours, 80);
    } finally {
      pbs.set('/admin/datastore/main/groups', pbsStandIn('groups-main.data.json'));
    }
  });

  test('a guest that was never backed up here says so', async () => {
    const r = await run('pbs_backups', { type: 'vm', id: '999' });
    assert.equal(r.status, 'no_data');
    assert.match(r.text, /nothing was backed up here as vm\/999/);
  });

  test('pbs_tasks with failed_only lists failed jobs with their log tails', async () => {
    const upid = 'UPID:pbs:00001A2B:003E8F12:00000063:6B0E7070:verificationjob:main\\x3av-3f2a1b7c:root@pam:';
    pbs.tasks.unshift({ upid, node: 'pbs', pid: 6699, pstart: 4099858, starttime: nowS - 3600, worker_type: 'verificationjob', worker_id: 'main:v-3f2a1b7c', user: 'root@pam', endtime: nowS - 3573, status: 'verification failed - please check the log for details' });
    pbs.api.route(`/api2/json/nodes/localhost/tasks/${upid}/log`, { data: pbsStandIn('task-log-verify-failed.data.json') });
    try {
      const r = await run('pbs_tasks', { failed_only: true, since_hours: 24 });
      assert.equal(r.status, 'ok');
      assert.equal((r.data!.tasks as unknown[]).length, 1);
      assert.match(r.text, /verificationjob main:v-3f2a1b7c: verification failed/);
      assert.match(r.text, /blob too small/);
      const all = await run('pbs_tasks', { since_hours: 24 });
      assert.match(all.text, /tasks in the last 24 h, 1 failed/);
    } finally {
      pbs.tasks.shift();
    }
  });
});
