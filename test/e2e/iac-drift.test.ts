/**
 * Drift between code and the lab as an incident, end to end: the real daemon with a proxmox:
 * block whose iac.paths holds code (test/fixtures-derived/iac/lab, SOURCES.md there), the loopback
 * Proxmox stand-in replaying real captures, the scheduled proxmox-iac check, the rule, the incident
 * in Redis and the report in the mailbox; then the lab put back, and the incident resolved. Code for a
 * guest the lab does not run raises its own incident, which resolves once that code is removed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readFixture } from '../helpers/fixtures.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { PVE_SECRET, standIn, startPveCluster, type PveCluster } from '../helpers/proxmox.ts';
import { waitFor } from '../helpers/wait.ts';

// a copy of test/fixtures-derived/iac/lab, so a test can add and remove code
const CODE = mkdtempSync(join(tmpdir(), 'labwatch-iac-code-'));
writeFileSync(join(CODE, 'main.tf'), readFileSync(fileURLToPath(new URL('../fixtures-derived/iac/lab/main.tf', import.meta.url)), 'utf8'));
// the published cloud-init VM config (test/fixtures/proxmox/SOURCES.md), which the code declares as vm 102
const cloudInitVm = () => (JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')) as { data: Record<string, unknown> }).data;

let pve: PveCluster;
let lab: Lab;
before(async () => {
  pve = await startPveCluster();
  pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  // vm 100 as the code declares it: the derived onboot config (test/fixtures-derived/proxmox/SOURCES.md)
  pve.set('/nodes/node2/qemu/100/config', standIn('qemu-config-onboot.data.json'));
  const secret = join(mkdtempSync(join(tmpdir(), 'labwatch-iac-')), 'pve-token');
  writeFileSync(secret, PVE_SECRET + '\n', { mode: 0o600 });
  lab = await startLab({
    channels: ['email'],
    notifyExtra: { routes: [{ channels: ['email'], mode: 'immediate' }] },
    watchYaml: 'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n  proxmox: { schedule: "0 0 1 1 *", disks: { enabled: false } }',
    extraYaml: `${pve.yaml(secret)}  iac:\n    paths: ["${CODE}"]\n    schedule: "0 0 1 1 *"\n`,
  });
});
after(async () => {
  await lab?.stop();
  await pve?.close();
});

test('memory changed by hand on a VM is one warning incident whose report names the field and what to do; put back, it resolves', async () => {
  const inSync = await lab.daemon.watcher.run('proxmox-iac');
  assert.equal(inSync.error, undefined);
  assert.deepEqual(inSync.anomalies, [], 'code and lab agree: nothing raised (the guest without code is listed, not raised)');

  pve.set('/nodes/node1/qemu/102/config', { ...cloudInitVm(), memory: '16384' });
  const drifted = await lab.daemon.watcher.run('proxmox-iac');
  const anomaly = drifted.anomalies.find((a) => a.rule === 'proxmox-iac-drift');
  assert.ok(anomaly, JSON.stringify(drifted.outcomes.filter((o) => o.verdict !== 'inactive')));
  assert.equal(anomaly.severity, 'warning');
  assert.equal(anomaly.subject, 'iac:vm:102');
  assert.match(anomaly.summary, /^vm:102 \(machine-test\) on node1 differs from its code: memory_mb$/);
  const mail = await waitFor('the drift report', () => lab.smtp.messages.find((m) => (m.parsed.text ?? '').includes('differs from its code')));
  const text = mail.parsed.text ?? '';
  assert.match(text, /memory_mb 8192 → 16384/);
  assert.match(text, /labwatch iac drift <path> --guest 102/);
  assert.match(text, /labwatch iac generate --guest 102/);

  pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  const back = await lab.daemon.watcher.run('proxmox-iac');
  assert.ok(back.anomalies.some((a) => a.rule === 'proxmox-iac-drift' && a.status === 'resolved'));
  await waitFor('the resolution', () => lab.smtp.messages.find((m) => /^\[RESOLVED\]/.test(m.parsed.subject ?? '') && (m.parsed.text ?? '').includes('vm:102')));
});

test('code for a guest the lab does not run warns; once the code is removed, the incident resolves', async () => {
  // ours, in Telmate's documented layout (test/fixtures-derived/iac/SOURCES.md): a vm 300 the recorded cluster does not have
  writeFileSync(join(CODE, 'truenas.tf'), 'resource "proxmox_vm_qemu" "truenas" {\n  name        = "truenas"\n  target_node = "node1"\n  vmid        = 300\n}\n');
  const declared = await lab.daemon.watcher.run('proxmox-iac');
  const anomaly = declared.anomalies.find((a) => a.rule === 'proxmox-iac-drift' && a.subject === 'iac:vm:300');
  assert.ok(anomaly, JSON.stringify(declared.anomalies));
  assert.match(anomaly.summary, /^code declares vm:300 \(truenas\) but the cluster does not run it$/);
  unlinkSync(join(CODE, 'truenas.tf'));
  const removed = await lab.daemon.watcher.run('proxmox-iac');
  assert.ok(removed.anomalies.some((a) => a.subject === 'iac:vm:300' && a.status === 'resolved'), JSON.stringify(removed.anomalies));
  await waitFor('the resolution', () => lab.smtp.messages.find((m) => /^\[RESOLVED\]/.test(m.parsed.subject ?? '') && (m.parsed.text ?? '').includes('vm:300')));
});
