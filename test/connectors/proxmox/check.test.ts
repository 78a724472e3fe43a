/**
 * `labwatch check` with a proxmox: block, as a person runs it after pasting the block: it logs in,
 * says the version and the cluster, and names every endpoint the token is refused with the command
 * that fixes it. The cluster is the loopback stand-in (real captures, real HTTPS, GET only).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TEST_REDIS_URL } from '../../helpers/lab.ts';
import { runLabwatch } from '../../helpers/process.ts';
import { PVE_SECRET, startPveCluster, type PveCluster } from '../../helpers/proxmox.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-check-pve-'));
let pve: PveCluster;
let config: string;

before(async () => {
  pve = await startPveCluster();
  writeFileSync(join(dir, 'pve-token'), `${PVE_SECRET}\n`, { mode: 0o600 });
  config = join(dir, 'labwatch.yaml');
  writeFileSync(config, `redis:\n  url: "${TEST_REDIS_URL}"\nwatch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n${pve.yaml(join(dir, 'pve-token'))}`);
});
after(() => pve.close());

const check = () => runLabwatch(['check', '--config', config], dir);

test('check logs in and says the version and the cluster', async () => {
  const r = await check();
  assert.match(r.stdout, /^ok +Proxmox VE https:\/\/127\.0\.0\.1:\d+ \(version 7\.4-16; cluster clustername, 4\/4 nodes online\)$/m, r.stdout);
});

test('check names every endpoint the token is refused, and the command that grants the role', async () => {
  pve.api.fault('/api2/json/cluster/ha', { status: 403, reason: 'Permission check failed (/, Sys.Audit)' });
  pve.api.fault('/api2/json/nodes/node2/disks', { status: 403, reason: 'Permission check failed (/, Sys.Audit)' });
  try {
    const r = await check();
    assert.equal(r.code, 1);
    const line = r.stdout.split('\n').find((l) => l.includes('Proxmox VE')) ?? '';
    assert.match(line, /^FAIL/);
    assert.match(line, /\/cluster\/ha\/status\/current \(Permission check failed \(\/, Sys\.Audit\)\)/);
    assert.match(line, /\/nodes\/node2\/disks\/list/);
    assert.match(line, /pveum acl modify \/ --tokens 'labwatch@pve!monitor' --roles PVEAuditor/);
  } finally {
    pve.api.fault('/api2/json/cluster/ha', undefined);
    pve.api.fault('/api2/json/nodes/node2/disks', undefined);
  }
});

test('observe proxmox-disks reads every node\'s drives through the API and shows what the SMART rules make of them', async () => {
  const r = await runLabwatch(['observe', 'proxmox-disks', '--json', '--config', config], dir);
  assert.equal(r.code, 0, r.stderr);
  const obs = JSON.parse(r.stdout) as { subject: string; host: string; reading?: string; values: Record<string, unknown> }[];
  // node1's real NVMe (pve-storage's test data: serial "unknown", so named by node and device; 31 % used)
  const nvme = obs.find((o) => o.host === 'node1' && o.values.device === '/dev/nvme0n1');
  assert.ok(nvme, r.stdout);
  assert.equal(nvme.reading, 'smart');
  assert.equal(nvme.values.percentage_used, 31);
  assert.equal(nvme.values.via, 'Proxmox API (node1)');
});
