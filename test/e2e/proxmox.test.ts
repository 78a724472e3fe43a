/**
 * A Proxmox VE cluster watched end to end: the real daemon polls a loopback HTTPS stand-in that
 * replays real captures (test/helpers/proxmox.ts), its rules raise incidents in real Redis, and
 * the deterministic report (no model configured) reaches the mailbox. Every call is a GET with
 * the token (the stand-in fails the test otherwise).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anomaly } from '../../src/connectors/types.ts';
import { driveObservation } from '../../src/connectors/smart/collect.ts';
import type { DriveHealth } from '../../src/connectors/smart/types.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { failingSmart, hddDiskList, PVE_SECRET, startPveCluster, taskLog, vzdumpTask, type PveCluster } from '../helpers/proxmox.ts';
import { standIn } from '../helpers/proxmox.ts';
import { pveZfsDetailFromStatus } from '../connectors/proxmox/pve-zfs-detail.ts';
import { readFixture } from '../helpers/fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

const firing = (as: Anomaly[]) => as.filter((a) => a.status === 'firing');

describe('a Proxmox VE cluster through its API', () => {
  let pve: PveCluster;
  let lab: Lab;
  before(async () => {
    pve = await startPveCluster();
    const secret = join(mkdtempSync(join(tmpdir(), 'labwatch-pve-')), 'pve-token');
    writeFileSync(secret, PVE_SECRET + '\n', { mode: 0o600 });
    lab = await startLab({
      channels: ['email'],
      // every severity mailed at once, so each report can be read here (by default warnings wait for the digest)
      notifyExtra: { routes: [{ channels: ['email'], mode: 'immediate' }] },
      watchYaml: 'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n  proxmox: { schedule: "0 0 1 1 *", disks: { schedule: "0 0 1 1 *" } }',
      extraYaml: pve.yaml(secret),
    });
  });
  after(async () => {
    await lab?.stop();
    await pve?.close();
  });

  const run = (name: 'proxmox' | 'proxmox-disks', now: Date) => lab.daemon.watcher.run(name, { now });
  /** The report mentioning `text`; every one says what to do, from the rule's own steps. */
  const mailAbout = async (text: string) => {
    const mail = await waitFor(`a report mentioning ${text}`, () => lab.smtp.messages.find((m) => (m.parsed.text ?? '').includes(text)));
    assert.match(mail.parsed.text ?? '', /What to do\n\s+1\. \S/);
    assert.doesNotMatch(mail.parsed.text ?? '', /runbook_url/, 'the rule\'s steps, not the generic advice');
    return mail;
  };

  test('a healthy 4-node cluster raises nothing, and one poll costs a bounded number of GETs', async () => {
    pve.api.take();
    const t0 = new Date('2026-12-01T10:00:00Z');
    const polls = [await run('proxmox', t0), await run('proxmox', new Date(t0.getTime() + 120_000)), await run('proxmox-disks', t0)];
    // the one thing wrong in these captures: the real pool's last scrub (February 2026) is overdue
    const overdue = (a: Anomaly) => a.rule === 'zfs-scrub-overdue' && a.subject === 'pool:samsung-970-01';
    for (const p of polls) assert.deepEqual(firing(p.anomalies).filter((a) => !overdue(a)), [], JSON.stringify(firing(p.anomalies).map((a) => a.summary)));
    assert.ok(firing(polls[0]!.anomalies).some(overdue));
    const obs = polls[0]!.observations;
    assert.ok(obs.some((o) => o.subject === 'pve-cluster:clustername' && o.values.quorate === true && o.values.nodes_online === 4));
    assert.ok(obs.some((o) => o.subject === 'pve-node:node3' && o.values.online === true && typeof o.values.iowait_pct === 'number'));
    assert.ok(obs.some((o) => o.subject === 'vm:100' && o.values.status === 'running'));
    // a stopped guest without onboot (its config read once) is not expected to run
    assert.ok(obs.some((o) => o.subject === 'vm:102' && o.values.status === 'stopped' && o.values.onboot === false && o.values.should_run === false));
    assert.ok(obs.some((o) => o.subject === 'pool:samsung-970-01' && o.host === 'node1' && o.values.state === 'ONLINE'));
    assert.ok(obs.some((o) => o.kind === 'interface' && o.subject === 'if:vmbr2' && o.values.mtu === 1500));
    const calls = pve.api.take();
    assert.ok(calls.every((c) => c.startsWith('GET ')));
    // first poll reads the stopped guests' configs (2 here); the second uses what it remembered
    const perPoll = calls.filter((c) => !c.includes('/disks/list') && !c.includes('/disks/smart'));
    assert.ok(perPoll.length <= 2 * (3 + 4 * 7) + 2, `calls for two polls: ${perPoll.length}`);
  });

  test('a node that goes offline is one critical incident naming it, after two polls', async () => {
    pve.offline('node3');
    const t0 = new Date('2026-12-01T11:00:00Z');
    const first = await run('proxmox', t0);
    assert.deepEqual(firing(first.anomalies).filter((a) => a.rule === 'proxmox-node-offline'), [], 'one poll is not enough (a reboot)');
    const second = await run('proxmox', new Date(t0.getTime() + 120_000));
    const offline = firing(second.anomalies).filter((a) => a.rule === 'proxmox-node-offline');
    assert.equal(offline.length, 1);
    assert.equal(offline[0]!.severity, 'critical');
    assert.equal(offline[0]!.subject, 'pve-node:node3');
    const mail = await mailAbout('node3');
    assert.match((mail.parsed.text ?? ''), /offline/i);
    pve.offline();
  });

  test("a failing drive on node2, read through the API, and the same drive seen by smartctl are one incident", async () => {
    pve.set('/nodes/node2/disks/list', hddDiskList(['ZC1A2B3C', 'ZC4D5E6F']));
    pve.set('/nodes/node2/disks/smart', failingSmart());
    const t0 = new Date('2026-12-01T12:00:00Z');
    const r = await run('proxmox-disks', t0);
    const disk = firing(r.anomalies).filter((a) => a.subject.startsWith('disk:ZC'));
    assert.ok(disk.some((a) => a.rule === 'smart-attribute-failing-now' && a.host === 'node2' && a.source === 'proxmox'), JSON.stringify(disk.map((a) => [a.rule, a.subject])));
    const incidentOf = async (subject: string) => (await lab.daemon.store.listRecent(100)).filter((i) => i.status === 'firing' && Object.values(i.anomalies).some((a) => a.subject === subject));
    const [viaApi] = await waitFor('the incident', async () => {
      const found = await incidentOf(disk[0]!.subject);
      return found.length ? found : undefined;
    });
    // the smartctl collector on node2 sees the same drive (same serial, same verdict)
    const local: DriveHealth = {
      subject: disk[0]!.subject,
      device: '/dev/sdb',
      type: 'sat',
      state: 'ok',
      exit: { code: 16, commandLineError: false, openFailedOrLowPower: false, commandFailed: false, diskFailing: false, prefailAtOrBelowThreshold: true, attributeFailedInPast: false, errorLogHasErrors: false, selfTestLogHasErrors: false },
      serial: disk[0]!.subject.slice(5),
      model: 'ST4000NM0033',
      protocol: 'ATA',
      ataAttributes: [{ id: 190, name: 'Airflow_Temperature_Cel', value: 45, worst: 45, thresh: 45, raw: 55, rawString: '55', whenFailed: 'now', prefailure: false }],
      messages: [],
    };
    const { anomalies } = await lab.daemon.rules.observe([driveObservation(local, 'node2', new Date(t0.getTime() + 60_000).toISOString())], { now: new Date(t0.getTime() + 60_000) });
    await lab.daemon.intake.accept(anomalies, { grouped: true });
    const joined = await incidentOf(disk[0]!.subject);
    assert.equal(joined.length, 1, "still one incident");
    assert.equal(joined[0]!.id, viaApi!.id);
    const mail = await mailAbout(disk[0]!.subject.slice(5));
    assert.match((mail.parsed.text ?? ''), /node2/);
  });

  test('a degraded pool on a node is raised for that node', async () => {
    const detail = pveZfsDetailFromStatus(readFixture('zpool', 'status-degraded-removed-device.txt'));
    pve.set('/nodes/node4/disks/zfs', [{ ...(standIn('zfs-list-one-pool.data.json') as Record<string, unknown>[])[0], name: 'dummy', health: 'DEGRADED' }]);
    pve.set('/nodes/node4/disks/zfs/dummy', detail.data);
    const r = await run('proxmox', new Date('2026-12-01T13:00:00Z'));
    const pool = firing(r.anomalies).find((a) => a.rule === 'zfs-pool-not-online');
    assert.ok(pool, JSON.stringify(firing(r.anomalies).map((a) => a.rule)));
    assert.equal(pool.subject, 'pool:dummy');
    assert.equal(pool.host, 'node4');
    await mailAbout('pool dummy');
    pve.set('/nodes/node4/disks/zfs', []);
  });

  test("a failed vzdump backup reaches the report with its log tail; two in a row are critical", async () => {
    const log = taskLog('task-log-vzdump-lxc-107-permission-denied.txt');
    const t0 = new Date('2026-12-01T14:00:00Z');
    const ok = vzdumpTask();
    // the real OK vzdump task as the shape, changed to the failed run of guest 107 the real log records
    const failedRun = (day: number) => ({ ...ok, node: 'node2', id: '107', status: 'job errors', upid: `UPID:node2:0020C066:042DF204:69C26EB${day}:vzdump:107:root@pam:`, starttime: t0.getTime() / 1000 - day * 86400 - 300, endtime: t0.getTime() / 1000 - day * 86400 });
    const runs = [failedRun(0)];
    pve.api.route('/api2/json/nodes/node2/tasks', (_q, url) => ({ data: url.searchParams.get('typefilter') === 'vzdump' ? runs : [] }));
    for (const day of [0, 1]) pve.api.route(`/api2/json/nodes/node2/tasks/${failedRun(day).upid}/log`, { data: log });
    const first = await run('proxmox', t0);
    const backup = firing(first.anomalies).find((a) => a.rule === 'proxmox-backup-failed');
    assert.ok(backup, JSON.stringify(firing(first.anomalies).map((a) => a.rule)));
    assert.equal(backup.severity, 'warning');
    const mail = await mailAbout('Cannot open: Permission denied');
    assert.match((mail.parsed.text ?? ''), /107/);
    runs.push(failedRun(1));
    const second = await run('proxmox', new Date(t0.getTime() + 120_000));
    assert.equal(firing(second.anomalies).find((a) => a.rule === 'proxmox-backup-failed')?.severity, 'critical');
    pve.set('/nodes/node2/tasks', []);
  });

  test('storage filling up is reported with the date it will be full', async () => {
    const storages = standIn('storage-local-zfs-nfs.data.json') as Record<string, number | string>[];
    const at = (used: number) => storages.map((s) => (s.storage === 'local-zfs' ? { ...s, used, avail: (s.total as number) - used, used_fraction: used / (s.total as number) } : s));
    const total = storages.find((s) => s.storage === 'local-zfs')!.total as number;
    const t0 = new Date('2026-12-02T10:00:00Z');
    pve.set('/nodes/node1/storage', at(total * 0.9));
    await run('proxmox', t0);
    pve.set('/nodes/node1/storage', at(total * 0.92));
    const r = await run('proxmox', new Date(t0.getTime() + 86_400_000));
    const full = firing(r.anomalies).find((a) => a.rule === 'proxmox-storage-full' && a.subject === 'storage:node1/local-zfs');
    assert.ok(full, JSON.stringify(firing(r.anomalies).map((a) => [a.rule, a.subject])));
    assert.match(full.annotations.estimate ?? '', /around 2026-12-0\d/);
    const mail = await mailAbout('local-zfs');
    assert.match((mail.parsed.text ?? ''), /around 2026-12-0\d/);
  });
});
