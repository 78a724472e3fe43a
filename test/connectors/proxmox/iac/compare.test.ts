/**
 * Code against the lab, guest by guest, as a person reads the result. Code: the Terraform in
 * test/fixtures-derived/iac (bpg and Telmate layouts from their docs, values of the replayed lab; see
 * its SOURCES.md), read by the real reader (code.ts). Lab: the published cloud-init VM config for
 * vm 102 and the derived onboot config for vm 100; each drift test changes one key of those and says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { readCode } from '../../../../src/connectors/proxmox/iac/code.ts';
import { compareGuests } from '../../../../src/connectors/proxmox/iac/compare.ts';
import { liveGuestOf } from '../../../../src/connectors/proxmox/iac/live.ts';
import type { DeclaredGuest, LiveGuest } from '../../../../src/connectors/proxmox/iac/model.ts';
import { driftText } from '../../../../src/connectors/proxmox/iac/report.ts';
import { readFixture } from '../../../helpers/fixtures.ts';
import { standIn } from '../../../helpers/proxmox.ts';

const CODE = fileURLToPath(new URL('../../../fixtures-derived/iac/', import.meta.url));
const cloudInitVm = () => (JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')) as { data: Record<string, unknown> }).data;

/** The lab: vm 100 server1 on node2 (derived onboot config), vm 102 machine-test on node1 (the real capture), each with `change` applied. */
function lab(change: { 100?: Record<string, unknown>; 102?: Record<string, unknown>; node102?: string } = {}): LiveGuest[] {
  return [
    liveGuestOf('qemu', 'node2', 100, 'running', 'server1', { ...(standIn('qemu-config-onboot.data.json') as Record<string, unknown>), ...change[100] }),
    liveGuestOf('qemu', change.node102 ?? 'node1', 102, 'stopped', 'machine-test', { ...cloudInitVm(), ...change[102] }),
  ];
}
async function code(folder: string): Promise<DeclaredGuest[]> {
  const r = await readCode(CODE + folder);
  assert.deepEqual(r.problems, []);
  return r.guests;
}
const byVmid = (drifts: ReturnType<typeof compareGuests>, vmid: number) => drifts.find((d) => d.vmid === vmid)!;

test('code that states what the lab runs is in sync, and says which fields it compared', async () => {
  const drifts = compareGuests(await code('lab'), lab());
  assert.deepEqual(drifts.map((d) => [d.vmid, d.state]), [[100, 'in-sync'], [102, 'in-sync']]);
  assert.ok(byVmid(drifts, 102).checked!.includes('memory_mb'));
  assert.ok(byVmid(drifts, 100).checked!.includes('disk scsi0 size_gb'));
  assert.match(driftText(drifts), /^2 guests: 0 drifted, 2 in sync$/m);
});

test('memory and cores changed live are drift, with code and live values (memory "16384", cores 4 set in the real config)', async () => {
  const drifts = compareGuests(await code('lab'), lab({ 102: { memory: '16384', cores: 4 } }));
  const d = byVmid(drifts, 102);
  assert.equal(d.state, 'drifted');
  assert.deepEqual(d.fields, [
    { field: 'cores', code: '2', live: '4', verdict: 'differs' },
    { field: 'memory_mb', code: '8192', live: '16384', verdict: 'differs' },
  ]);
  assert.equal(d.where?.address, 'proxmox_vm_qemu.machine_test');
  assert.equal(byVmid(drifts, 100).state, 'in-sync');
  const text = driftText(drifts);
  assert.match(text, /^vm:102 machine-test on node1: DRIFTED \(.*main\.tf.*proxmox_vm_qemu\.machine_test\)$/m);
  assert.match(text, /^ {2}memory_mb +8192 +16384$/m);
});

test('a disk grown live is drift (scsi0 size=64G → 80G in the real config)', async () => {
  const drifts = compareGuests(await code('lab'), lab({ 102: { scsi0: 'local-lvm:vm-1000-disk-0,size=80G' } }));
  assert.deepEqual(byVmid(drifts, 102).fields, [{ field: 'disk scsi0 size_gb', code: '64 GiB', live: '80 GiB', verdict: 'differs' }]);
});

test('a disk added live is drift by its slot', async () => {
  const drifts = compareGuests(await code('lab'), lab({ 100: { scsi1: 'local-zfs:vm-100-disk-1,size=100G' } }));
  assert.deepEqual(byVmid(drifts, 100).fields, [{ field: 'disk scsi1', code: 'none', live: '100 GiB on local-zfs', verdict: 'differs' }]);
});

test('a VLAN tag set live on a NIC code declares untagged is drift (tag=20 added to net0)', async () => {
  const drifts = compareGuests(await code('lab'), lab({ 100: { net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20' } }));
  assert.deepEqual(byVmid(drifts, 100).fields, [{ field: 'nic net0 tag', code: 'untagged', live: '20', verdict: 'differs' }]);
});

test('a guest migrated to another node is drift', async () => {
  const drifts = compareGuests(await code('lab'), lab({ node102: 'node3' }));
  assert.deepEqual(byVmid(drifts, 102).fields, [{ field: 'node', code: 'node1', live: 'node3', verdict: 'differs' }]);
});

test('a live guest no code declares is listed as such', async () => {
  const live = [...lab(), liveGuestOf('qemu', 'node1', 200, 'stopped', 'VM 200', standIn('qemu-config-onboot.data.json') as Record<string, unknown>)];
  const drifts = compareGuests(await code('lab'), live);
  assert.deepEqual(drifts.map((d) => [d.vmid, d.state]), [[100, 'in-sync'], [102, 'in-sync'], [200, 'no-code']]);
  assert.match(driftText(drifts), /^vm:200 VM 200 on node1: no code declares it$/m);
});

test('code for a guest the lab does not run is "not in the lab"', async () => {
  const drifts = compareGuests(await code('lab'), lab().filter((g) => g.vmid !== 102));
  assert.equal(byVmid(drifts, 102).state, 'not-in-lab');
});

test('a value from a variable without a default is reported as unknown, with the reason, and not as drift', async () => {
  const drifts = compareGuests(await code('unknown'), lab());
  const d = byVmid(drifts, 102);
  assert.equal(d.state, 'in-sync');
  const memory = d.fields.find((f) => f.field === 'memory_mb')!;
  assert.equal(memory.verdict, 'unknown');
  assert.match(memory.code, /machine_memory/);
  assert.equal(memory.live, '8192');
  assert.match(driftText(drifts), /memory_mb +unknown: .*machine_memory.* +8192/);
});

test('guests without a vmid are matched by name, and the order is the same whichever order code and lab come in', async () => {
  const declared = (await code('lab')).map(({ vmid: _vmid, ...g }) => g as DeclaredGuest);
  const a = compareGuests(declared, lab({ 102: { cores: 4 } }));
  const b = compareGuests([...declared].reverse(), lab({ 102: { cores: 4 } }).reverse());
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((d) => [d.vmid, d.state]), [[100, 'in-sync'], [102, 'drifted']]);
});

/** Code written for one test (ours, in the documented layouts of test/fixtures-derived/iac/SOURCES.md), read by the real reader. */
async function codeOf(files: Record<string, string>): Promise<{ guests: DeclaredGuest[]; problems: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-iac-compare-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return readCode(dir);
}

test('NICs set by a dynamic block are unknown, not drift: the row says so and names the live NICs it leaves uncompared', async () => {
  const { guests, problems } = await codeOf({
    'main.tf': `variable "nics" {
  type = list(string)
}
resource "proxmox_vm_qemu" "machine_test" {
  name        = "machine-test"
  target_node = "node1"
  vmid        = 102
  memory      = 8192
  dynamic "network" {
    for_each = var.nics
    content {
      model  = "virtio"
      bridge = network.value
    }
  }
}
`,
  });
  assert.deepEqual(problems, []);
  const d = byVmid(compareGuests(guests, lab()), 102);
  assert.equal(d.state, 'in-sync', JSON.stringify(d.fields));
  assert.deepEqual(d.fields.filter((f) => f.verdict === 'differs'), []);
  const nic = d.fields.find((f) => f.field.startsWith('nic '))!;
  assert.equal(nic.verdict, 'unknown');
  assert.match(nic.code, /dynamic/);
  assert.match(nic.live, /net0: virtio, bridge vmbr0/);
});

test('code whose vmid and name are unknown (a for_each over a variable without a default) is unmatched: not drift, not "not in the lab"', async () => {
  const { guests } = await codeOf({
    'k8s.tf': `variable "nodes" {
  type = map(object({ vmid = number, name = string }))
}
resource "proxmox_vm_qemu" "k8s" {
  for_each    = var.nodes
  name        = each.value.name
  vmid        = each.value.vmid
  target_node = "node1"
}
`,
  });
  const drifts = compareGuests(guests, lab());
  const k8s = drifts.find((d) => d.where?.address.startsWith('proxmox_vm_qemu.k8s'))!;
  assert.equal(k8s.state, 'unmatched');
  assert.deepEqual(k8s.fields.map((f) => [f.field, f.verdict]), [['vmid', 'unknown'], ['name', 'unknown']]);
  assert.match(k8s.fields[0]!.code, /var\.nodes/);
  const text = driftText(drifts);
  assert.match(text, /^VM proxmox_vm_qemu\.k8s\[\*\] on node1: NOT MATCHED, not compared/m);
  assert.match(text, /^3 guests: 0 drifted, 0 in sync, 2 in the lab without code, 1 declared but not matched to a live guest \(not compared\)$/m);
});

test('a guest declared twice (Terraform and Ansible) is one row, judged by the first declaration, with the problem named', async () => {
  const declared = await code('lab');
  const again: DeclaredGuest = { ...declared.find((g) => g.name === 'machine-test')!, provider: 'ansible', memoryMb: 4096, where: { file: 'site.yml', address: 'create machine-test' } };
  const drifts = compareGuests([...declared, again], lab());
  assert.deepEqual(drifts.map((d) => [d.vmid, d.state]), [[100, 'in-sync'], [102, 'in-sync']]);
  assert.deepEqual(byVmid(drifts, 102).problems, ['declared twice: main.tf:30: proxmox_vm_qemu.machine_test, site.yml: create machine-test']);
  assert.match(driftText(drifts), /^vm:102 machine-test on node1: in sync .*\n {2}problem: declared twice: main\.tf:30/m);
});

test('matching by name prefers the same kind, and a name several live guests share matches none of them', async () => {
  const declared = (await code('lab')).filter((g) => g.name === 'machine-test').map(({ vmid: _vmid, ...g }) => g as DeclaredGuest);
  const container = liveGuestOf('lxc', 'node1', 105, 'running', 'machine-test', standIn('lxc-config-rootfs-mp-vlan.data.json') as Record<string, unknown>);
  const preferred = compareGuests(declared, [...lab(), container]);
  assert.equal(preferred.find((d) => d.where)!.vmid, 102, 'the VM, not the container of the same name');
  const twin = liveGuestOf('qemu', 'node2', 103, 'running', 'machine-test', cloudInitVm());
  const ambiguous = compareGuests(declared, [...lab(), twin]).find((d) => d.where)!;
  assert.equal(ambiguous.state, 'unmatched');
  assert.match(ambiguous.fields[0]!.live, /2 guests have this name \(vm:102, vm:103\); state the vmid/);
});

test('a passed-through disk and a bind mount are compared by path and mount point (keys changed in the real configs)', () => {
  const truenas = liveGuestOf('qemu', 'node1', 102, 'running', 'machine-test', { ...cloudInitVm(), scsi1: '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_VAGASB8L,size=7452G' });
  const declared: DeclaredGuest = {
    kind: 'qemu', provider: 'telmate', vmid: 102, where: { file: 'truenas.tf', address: 'proxmox_vm_qemu.truenas' },
    disks: [{ slot: 'scsi0', storage: 'local-lvm', sizeGb: 64 }, { slot: 'scsi1', path: '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_OTHER' }],
    nics: [],
  };
  assert.deepEqual(compareGuests([declared], [truenas])[0]!.fields, [
    { field: 'disk scsi1 path', code: '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_OTHER', live: '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_VAGASB8L', verdict: 'differs' },
  ]);
  const pihole = liveGuestOf('lxc', 'node1', 105, 'running', 'pihole', standIn('lxc-config-rootfs-mp-vlan.data.json') as Record<string, unknown>);
  const ct: DeclaredGuest = {
    kind: 'lxc', provider: 'bpg', vmid: 105, where: { file: 'ct.tf', address: 'proxmox_virtual_environment_container.pihole' },
    disks: [{ slot: 'rootfs', storage: 'local-lvm', sizeGb: 8 }, { slot: 'mp0', storage: 'local-lvm', sizeGb: 16, mountpoint: '/data' }, { slot: 'mp1', path: '/mnt/bindmounts/shared', mountpoint: '/srv/shared' }],
    nics: [],
  };
  assert.deepEqual(compareGuests([ct], [pihole])[0]!.fields, [{ field: 'disk mp1 mountpoint', code: '/srv/shared', live: '/shared', verdict: 'differs' }]);
});
