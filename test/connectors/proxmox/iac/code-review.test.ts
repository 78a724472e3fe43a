/**
 * Reading code, the cases the review of issue #17 found wrong: dynamic blocks, for_each over toset, Telmate 3.x
 * `disk { slot }`, passthrough disks and bind mounts, module calls, -var-file tfvars, *.tf.json, Ansible loops
 * and `default(omit)`, the work bounds and symbolic links. Real files from test/fixtures/iac, variants from
 * test/fixtures-derived/iac/from-real (both SOURCES.md); pathological inputs are made at run time from real files.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCode } from '../../../../src/connectors/proxmox/iac/code.ts';
import { compareGuests } from '../../../../src/connectors/proxmox/iac/compare.ts';
import { Budget, BudgetExceeded } from '../../../../src/connectors/proxmox/iac/hcl.ts';
import type { DeclaredGuest, LiveGuest } from '../../../../src/connectors/proxmox/iac/model.ts';
import { assemble, countedAnsibleHost, DERIVED_IAC, REAL_IAC } from '../../../helpers/iac.ts';

const REAL = REAL_IAC;
const DERIVED = DERIVED_IAC;

const byAddress = (guests: DeclaredGuest[], address: string) => {
  const g = guests.find((x) => x.where.address === address);
  assert.ok(g, `no guest ${address} in ${guests.map((x) => x.where.address).join(', ')}`);
  return g;
};

const DYNAMIC = (name: string) => ({ unknown: `set by a dynamic "${name}" block, which labwatch does not expand` });

test('dynamic blocks do not crash the reader: their disks and NICs are one `dynamic:<block>` entry, every field unknown', async () => {
  const { guests, problems } = await readCode(join(REAL, 'telmate/801labs-proxmox-terraform/proxmox_lxcs.tf'));
  assert.deepEqual(problems, []);
  assert.equal(guests.length, 1);
  const g = guests[0]!;
  assert.equal(g.where.address, 'proxmox_lxc.lxcs[*]', 'for_each over an undeclared var: one guest standing for all');
  assert.equal(g.vmid, undefined);
  assert.match((g.name as { unknown: string }).unknown, /for_each is unknown: var\.lxcs is not declared/);
  assert.deepEqual(g.disks.at(-1), { slot: 'dynamic:mountpoint', storage: DYNAMIC('mountpoint'), sizeGb: DYNAMIC('mountpoint'), path: DYNAMIC('mountpoint'), mountpoint: DYNAMIC('mountpoint') });
  assert.deepEqual(g.nics, [{ slot: 'dynamic:network', bridge: DYNAMIC('network'), model: DYNAMIC('network'), tag: DYNAMIC('network'), mtu: DYNAMIC('network') }]);
  // neither vmid nor name known: the comparison cannot say which guest it is, so it calls it unmatched
  assert.equal(compareGuests([g], [])[0]!.state, 'unmatched');
});

test('for_each = toset(local.list) expands to one guest per element, named by each.value', async () => {
  const { guests, problems } = await readCode(join(REAL, 'telmate/mrjontismo-terraform-proxmox/debian-test-1.tf'));
  assert.deepEqual(problems, []);
  assert.deepEqual(guests.map((g) => [g.where.address, g.name]), [1, 2, 3].map((i) => [`proxmox_vm_qemu.kube-master["kube-master-${i}"]`, `kube-master-${i}`]));
  assert.deepEqual(guests[0]!.disks, [{ slot: 'virtio0', storage: 'local', sizeGb: 20 }]);
});

test('Telmate 3.x disk { slot = "scsi0" } is the slot; a cloudinit disk is not compared; target_nodes and start_at_node_boot', async () => {
  const { guests, problems } = await readCode(join(DERIVED, 'telmate-3x-disk'));
  assert.deepEqual(problems, []);
  const g = guests[0]!;
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'local-lvm', sizeGb: 90 }]);
  assert.equal(g.onboot, true);
  assert.deepEqual(g.node, { unknown: 'target_nodes lists 2 nodes; the provider places the guest on one of them' });
});

test('Telmate passthrough { file } disks are their host paths, with no storage or size (the TrueNAS case)', async () => {
  const { guests, problems } = await readCode(join(REAL, 'telmate/pzdrs-homelab/scale01.tf'));
  assert.deepEqual(problems, []);
  assert.deepEqual(guests[0]!.disks, [
    { slot: 'scsi0', storage: 'vm-data', sizeGb: 50 },
    { slot: 'scsi1', path: '/dev/disk/by-id/ata-Verbatim_Vi560_S3_493632454831240' },
    { slot: 'scsi2', path: '/dev/disk/by-id/ata-ST4000VN006-3CW104_ZW604DQ6' },
    { slot: 'scsi3', path: '/dev/disk/by-id/ata-ST4000VN006-3CW104_ZW603QDR' },
    { slot: 'scsi4', path: '/dev/disk/by-id/ata-ST4000VN006-3CW104_ZW603R26' },
  ]);
});

test('bpg path_in_datastore with datastore_id "" is a passthrough path: no local-lvm/8 GiB defaults for it', async () => {
  const { guests, problems } = await readCode(join(DERIVED, 'bpg-passthrough'));
  assert.deepEqual(problems, []);
  const g = guests[0]!;
  assert.deepEqual(g.disks, [{ slot: 'scsi1', path: '/dev/disk/by-id/ata-ST4000VN006-3CW104_ZW604DQ6' }]);
  assert.equal(g.sockets, 1, 'not a clone: the provider defaults still apply to what is not a disk path');
});

test('a folder called as a local module is read once per call, with the call\'s arguments, and not on its own', async (t) => {
  const dir = await assemble(t, {
    'main.tf': join(DERIVED, 'module-call/main.tf'),
    'vm/main.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/main.tf'),
    'vm/variables.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/variables.tf'),
  });
  const { guests, problems } = await readCode(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(guests.map((g) => g.where.address).sort(), ['module.second.proxmox_vm_qemu.vm', 'module.truenas.proxmox_vm_qemu.vm']);
  const truenas = byAddress(guests, 'module.truenas.proxmox_vm_qemu.vm');
  assert.equal(truenas.where.file, join('vm', 'main.tf'));
  assert.equal(truenas.name, 'truenas');
  assert.equal(truenas.node, 'pve1');
  assert.equal(truenas.memoryMb, 8192);
  assert.deepEqual(truenas.disks, [{ slot: 'scsi0', storage: 'samsung_ssd', sizeGb: 32 }], 'what the call leaves out takes the module\'s default');
  const second = byAddress(guests, 'module.second.proxmox_vm_qemu.vm');
  assert.deepEqual(second.node, { unknown: 'var.target_node is set by the module call in main.tf: module.second: var.second_node has no default and no .tfvars sets it' });
});

test('a variable set only in dev.tfvars / prod.tfvars (read with -var-file) is unknown, naming them; terraform.tfvars applies', async (t) => {
  const dir = await assemble(t, {
    'main.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/main.tf'),
    'variables.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/variables.tf'),
    'terraform.tfvars': join(DERIVED, 'telmate-tfvars/terraform.tfvars'),
    'dev.tfvars': join(DERIVED, 'tfvars-var-file/dev.tfvars'),
    'prod.tfvars': join(DERIVED, 'tfvars-var-file/prod.tfvars'),
  });
  const { guests, problems } = await readCode(dir);
  assert.deepEqual(problems, []);
  assert.equal(guests[0]!.name, 'truenas');
  assert.deepEqual(guests[0]!.memoryMb, { unknown: 'var.memory is set in dev.tfvars, prod.tfvars, which Terraform reads only when run with -var-file; labwatch cannot tell which applies' });
});

test('*.tf.json and terraform.tfvars.json are read like HCL', async () => {
  const { guests, problems, files } = await readCode(join(DERIVED, 'tf-json'));
  assert.deepEqual(problems, []);
  assert.deepEqual(files.sort(), ['main.tf.json', 'terraform.tfvars.json']);
  const g = guests[0]!;
  assert.equal(g.where.address, 'proxmox_vm_qemu.ansible-host');
  assert.equal(g.memoryMb, 3072);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'vm', sizeGb: 32 }]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio', tag: 40 }]);
});

test('Ansible: a loop over a literal list is one guest per item; default(omit) is not stated; an unreadable loop stays one guest', async () => {
  const { guests, problems } = await readCode(join(DERIVED, 'ansible-loop'));
  assert.deepEqual(problems, []);
  assert.equal(guests.length, 3, JSON.stringify(guests.map((g) => g.where.address)));
  const [spynal, sabre, unknown] = guests;
  assert.deepEqual([spynal!.vmid, spynal!.name, spynal!.cores], [301, 'spynal', 4]);
  assert.match(spynal!.where.address, /\[spynal\]$/);
  assert.deepEqual([sabre!.vmid, sabre!.name], [302, 'sabre']);
  assert.equal(sabre!.cores, undefined, '{{ item.cores | default(omit) }} with no cores: not stated, not "omit"');
  assert.equal(unknown!.vmid, undefined);
  assert.match((unknown!.name as { unknown: string }).unknown, /the task's loop is not read: \{\{ more_vms \}\}: more_vms is not set/);
});

test('locals are resolved once: 22 chained locals each using the previous twice read at once', async (t) => {
  const host = await readFile(join(REAL, 'telmate/securitybits-homelab/ansible-host.tf'), 'utf8');
  const locals = ['locals {', '  a0 = "x"', ...Array.from({ length: 22 }, (_, i) => `  a${i + 1} = { l = local.a${i}, r = local.a${i} }`), '}', ''].join('\n');
  const dir = await assemble(t, { 'ansible-host.tf': { text: host.replace('memory = 2048', 'memory = local.a22.l.r.l.r.l.r.l.r.l.r.l.r.l.r.l.r.l.r.l.r.l.r') }, 'locals.tf': { text: locals } });
  const started = Date.now();
  const { guests, problems } = await readCode(dir);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.deepEqual(problems, []);
  assert.deepEqual(guests[0]!.memoryMb, { unknown: 'memory = "x" is not a number' });
});

test('count = 1000 is not expanded: a problem says so and one guest stands for them', async (t) => {
  const dir = await assemble(t, { 'ansible-host.tf': await countedAnsibleHost(1000) });
  const { guests, problems } = await readCode(dir);
  assert.deepEqual(problems, ['ansible-host.tf: proxmox_vm_qemu.ansible-host: count = 1000 instances, more than the 256 labwatch expands; read as one guest whose name and vmid are unknown']);
  assert.deepEqual(guests.map((g) => g.where.address), ['proxmox_vm_qemu.ansible-host[*]']);
});

test('a cancelled read stops with a problem; the evaluation budget throws past its steps', async () => {
  const controller = new AbortController();
  controller.abort();
  const { guests, problems } = await readCode(join(REAL, 'telmate'), controller.signal);
  assert.deepEqual(guests, []);
  assert.match(problems.at(-1)!, /reading stopped: reading was cancelled/);
  const budget = new Budget(3);
  budget.tick();
  budget.tick();
  budget.tick();
  assert.throws(() => budget.tick(), (err) => err instanceof BudgetExceeded && /more than 3 steps/.test(err.message));
});

test('a file over 1 MiB is a problem naming it; the other files are still read', async (t) => {
  const dev = await readFile(join(REAL, 'telmate/felipedbene-tf-proxmox/dev.tf'), 'utf8');
  const big = (await readFile(join(REAL, 'telmate/kyrbrbik-terraform/full-clone.tf'), 'utf8')) + `# ${'x'.repeat(1024 * 1024)}\n`;
  const dir = await assemble(t, { 'dev.tf': { text: dev }, 'full-clone.tf': { text: big } });
  const { guests, problems } = await readCode(dir);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^full-clone\.tf: \d+ bytes, more than the 1048576 labwatch reads in one file/);
  assert.deepEqual(guests.map((g) => g.name), ['DevInstance']);
});

test('symbolic links are listed as problems, not followed; a role\'s vars behind a link are not read', async (t) => {
  const outside = await assemble(t, { 'main.yml': { text: 'node: px99\n' } });
  const dir = await assemble(t, {
    'dev.tf': join(REAL, 'telmate/felipedbene-tf-proxmox/dev.tf'),
    'roles/vm/tasks/main.yml': join(REAL, 'ansible/vanyabolshoi-ansible/create_vm.yml'),
  });
  await symlink(join(REAL, 'telmate/kyrbrbik-terraform/full-clone.tf'), join(dir, 'linked.tf'));
  await mkdir(join(dir, 'roles/vm/defaults'));
  await symlink(join(outside, 'main.yml'), join(dir, 'roles/vm/defaults/main.yml'));
  const { guests, problems } = await readCode(dir);
  assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['linked.tf', join('roles', 'vm', 'defaults', 'main.yml')]);
  assert.match(problems[0]!, /a symbolic link, not followed/);
  assert.deepEqual(guests.filter((g) => g.provider === 'telmate').map((g) => g.name), ['DevInstance']);
  const role = guests.find((g) => g.provider === 'ansible')!;
  assert.match((role.node as { unknown: string }).unknown, /node is not set/, 'the linked defaults (node: px99) were not read');
});

test('a dynamic disk entry makes live disks it could set unknown, not drift (the contract with compare.ts)', async () => {
  const { guests } = await readCode(join(REAL, 'telmate/801labs-proxmox-terraform/proxmox_lxcs.tf'));
  const g: DeclaredGuest = { ...guests[0]!, vmid: 120 };
  const live: LiveGuest = {
    kind: 'lxc', vmid: 120, name: 'media', node: 'pve', status: 'running', disks: [{ slot: 'rootfs', storage: 'local-lvm', sizeGb: 8 }, { slot: 'mp0', path: '/tank/media', mountpoint: '/media' }],
    nics: [{ slot: 'net0', bridge: 'vmbr0' }],
  };
  const row = compareGuests([g], [live])[0]!;
  assert.ok(!row.fields.some((f) => f.verdict === 'differs' && /^(disk mp0|nic net0)/.test(f.field)), JSON.stringify(row.fields));
  assert.ok(row.fields.some((f) => f.field === 'disk dynamic:mountpoint' && f.verdict === 'unknown'), JSON.stringify(row.fields));
  assert.ok(row.fields.some((f) => f.field === 'nic dynamic:network' && f.verdict === 'unknown'), JSON.stringify(row.fields));
});
