/**
 * `labwatch iac drift|generate` as a person or a script runs them (the real bin), against the
 * loopback Proxmox stand-in (go-proxmox's recorded cluster; the published cloud-init VM config for
 * vm 102, the derived onboot config for vm 100) and the code in test/fixtures-derived/iac.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { readFixture } from './helpers/fixtures.ts';
import { TEST_REDIS_URL } from './helpers/lab.ts';
import { brokenFullClone } from './helpers/iac.ts';
import { runLabwatch } from './helpers/process.ts';
import { PVE_SECRET, standIn, startPveCluster, type PveCluster } from './helpers/proxmox.ts';

const CODE = fileURLToPath(new URL('fixtures-derived/iac', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'labwatch-cli-iac-'));
const prefix = `lwtest-iac-${randomBytes(3).toString('hex')}`;
const cloudInitVm = () => (JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')) as { data: Record<string, unknown> }).data;
let pve: PveCluster;
let config: string;

before(async () => {
  pve = await startPveCluster();
  pve.set('/nodes/node2/qemu/100/config', standIn('qemu-config-onboot.data.json'));
  pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  writeFileSync(join(dir, 'pve-token'), `${PVE_SECRET}\n`, { mode: 0o600 });
  config = join(dir, 'labwatch.yaml');
  writeFileSync(
    config,
    `redis:\n  url: "${TEST_REDIS_URL}"\n  prefix: ${prefix}\naudit:\n  file: ${join(dir, 'audit.jsonl')}\nwatch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n${pve.yaml(join(dir, 'pve-token'))}  iac:\n    paths: ["${CODE}"]\n`,
  );
});
after(async () => {
  await pve.close();
  const r = new Redis(TEST_REDIS_URL);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
});

const labwatch = (...args: string[]) => runLabwatch([...args, '--config', config], dir);

test('iac drift exits 0 when code and lab agree, and prints each guest', async () => {
  const r = await labwatch('iac', 'drift', join(CODE, 'lab'));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^vm:102 machine-test on node1: in sync/m);
  assert.match(r.stdout, /^3 guests: 0 drifted, 2 in sync, 1 in the lab without code$/m);
});

test('iac drift exits 1 when the lab drifted, with the table; --json gives the same for scripts', async () => {
  pve.set('/nodes/node1/qemu/102/config', { ...cloudInitVm(), net0: 'virtio=BC:24:11:CB:B3:C7,bridge=vmbr0,tag=20' });
  try {
    const r = await labwatch('iac', 'drift', join(CODE, 'lab'));
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^ {2}nic net0 tag +untagged +20$/m);
    const j = await labwatch('iac', 'drift', join(CODE, 'lab'), '--guest', '102', '--json');
    assert.equal(j.code, 1, j.stderr);
    const data = JSON.parse(j.stdout) as { counts: { drifted: number }; guests: { vmid: number; fields: { field: string }[] }[] };
    assert.equal(data.counts.drifted, 1);
    assert.deepEqual(data.guests.map((g) => [g.vmid, g.fields.map((f) => f.field)]), [[102, ['nic net0 tag']]]);
  } finally {
    pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  }
});

test('iac drift reads the path the person names even outside proxmox.iac.paths (a copy of the lab code elsewhere)', async () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'labwatch-cli-iac-elsewhere-'));
  writeFileSync(join(elsewhere, 'main.tf'), readFileSync(join(CODE, 'lab', 'main.tf'), 'utf8'));
  const r = await labwatch('iac', 'drift', elsewhere);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^3 guests: 0 drifted, 2 in sync, 1 in the lab without code$/m);
  const missing = await labwatch('iac', 'drift', join(elsewhere, 'nowhere'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nowhere does not exist/);
});

test('iac drift exits 2 when a file could not be read, printing which (the lab code plus a file that does not parse)', async () => {
  const mixed = mkdtempSync(join(tmpdir(), 'labwatch-cli-iac-broken-'));
  writeFileSync(join(mixed, 'main.tf'), readFileSync(join(CODE, 'lab', 'main.tf'), 'utf8'));
  writeFileSync(join(mixed, 'full-clone.tf'), (await brokenFullClone()).text);
  const r = await labwatch('iac', 'drift', mixed);
  assert.equal(r.code, 2, r.stderr + r.stdout);
  assert.match(r.stdout, /^vm:102 machine-test on node1: in sync/m, 'what could be read is still compared');
  assert.match(r.stderr, /problem.* reading the code[^]*full-clone\.tf/);
});

test('iac drift does not count code it cannot match as drift: exit 0 with the guest listed (for_each over a variable without a default)', async () => {
  const k8s = mkdtempSync(join(tmpdir(), 'labwatch-cli-iac-k8s-'));
  writeFileSync(join(k8s, 'main.tf'), readFileSync(join(CODE, 'lab', 'main.tf'), 'utf8'));
  // ours, in Telmate's documented layout: the guests' vmid and name come from a map nobody set
  writeFileSync(join(k8s, 'k8s.tf'), 'variable "nodes" {}\nresource "proxmox_vm_qemu" "k8s" {\n  for_each    = var.nodes\n  name        = each.value.name\n  vmid        = each.value.vmid\n  target_node = "node1"\n}\n');
  const r = await labwatch('iac', 'drift', k8s);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^VM proxmox_vm_qemu\.k8s\[\*\] on node1: NOT MATCHED, not compared/m);
  assert.match(r.stdout, /1 declared but not matched to a live guest/);
});

test('iac generate writes checked code to a file, and says how it was checked', async () => {
  const out = join(dir, 'vm102.tf');
  const r = await labwatch('iac', 'generate', '--guest', '102', '--provider', 'telmate', '--out', out);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /checked: parses; .*re-read and compared with the lab: no drift/);
  assert.match(readFileSync(out, 'utf8'), /resource "proxmox_vm_qemu"/);
  const none = await labwatch('iac', 'generate');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--guest VMID .* or --all/);
});
