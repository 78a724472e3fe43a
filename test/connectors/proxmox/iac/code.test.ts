/**
 * Reading real Terraform and Ansible code into declared guests. Files: test/fixtures/iac (real code from public
 * homelab repositories and the providers' own examples, SOURCES.md names each) and, where a case needs a
 * change, test/fixtures-derived/iac/from-real (each change listed in its SOURCES.md).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCode } from '../../../../src/connectors/proxmox/iac/code.ts';
import type { DeclaredGuest } from '../../../../src/connectors/proxmox/iac/model.ts';
import { assemble, brokenFullClone, countedAnsibleHost, DERIVED_IAC, REAL_IAC, replicatedFullClone } from '../../../helpers/iac.ts';

const REAL = REAL_IAC;
const DERIVED = DERIVED_IAC;

async function only(path: string): Promise<DeclaredGuest> {
  const { guests, problems } = await readCode(path);
  assert.deepEqual(problems, []);
  assert.equal(guests.length, 1, JSON.stringify(guests));
  return guests[0]!;
}

const byAddress = (guests: DeclaredGuest[], address: string) => {
  const g = guests.find((x) => x.where.address === address);
  assert.ok(g, `no guest ${address} in ${guests.map((x) => x.where.address).join(', ')}`);
  return g;
};

test('Telmate 2.x: a disk block becomes scsi0 in GiB, the network block net0 with its VLAN tag', async () => {
  const g = await only(join(REAL, 'telmate/securitybits-homelab/ansible-host.tf'));
  assert.equal(g.provider, 'telmate');
  assert.equal(g.kind, 'qemu');
  assert.deepEqual(g.where, { file: 'ansible-host.tf', line: 1, address: 'proxmox_vm_qemu.ansible-host' });
  assert.equal(g.name, 'ansible-host');
  assert.equal(g.node, 'proxmox1');
  assert.equal(g.memoryMb, 2048);
  assert.equal(g.cores, 1);
  assert.equal(g.sockets, 1);
  assert.equal(g.onboot, true);
  assert.equal(g.vmid, undefined, 'the code states no vmid');
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'vm', sizeGb: 32 }]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio', tag: 40 }]);
});

test('Telmate 2.x: a virtio disk is virtio0, numbers written as strings are numbers, the provider example\'s VLAN 256', async () => {
  const clone = await only(join(REAL, 'telmate/kyrbrbik-terraform/full-clone.tf'));
  assert.equal(clone.vmid, 300);
  assert.equal(clone.memoryMb, 8192);
  assert.deepEqual(clone.disks, [{ slot: 'virtio0', storage: 'data-slow', sizeGb: 60 }]);
  assert.equal(clone.name, undefined, 'the code names no VM');

  const example = await only(join(REAL, 'telmate/telmate-examples/cloudinit_example.tf'));
  assert.equal(example.cores, 2); // cores = "2"
  assert.equal(example.memoryMb, 2048); // memory = "2048"
  assert.deepEqual(example.disks, [{ slot: 'virtio0', storage: 'ceph-storage-pool', sizeGb: 32 }]);
  assert.deepEqual(example.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio', tag: 256 }]);
});

test('Telmate 3.x: disks { scsi { scsi0 { disk } } } and a network with id and MTU', async () => {
  const g = await only(join(REAL, 'telmate/felipedbene-tf-proxmox/dev.tf'));
  assert.equal(g.vmid, 201);
  assert.equal(g.name, 'DevInstance');
  assert.equal(g.node, 'pve-1');
  assert.equal(g.cores, 4);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'local-lvm', sizeGb: 90 }]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr1', model: 'virtio', mtu: 9000 }]);
});

test('variables resolve to their defaults; one with no default is unknown with the reason', async () => {
  const g = await only(join(REAL, 'telmate/ngel-castro-single-vm-module'));
  assert.deepEqual(g.name, { unknown: 'var.name has no default and no .tfvars sets it' });
  assert.deepEqual(g.node, { unknown: 'var.target_node has no default and no .tfvars sets it' });
  assert.equal(g.memoryMb, 2048);
  assert.deepEqual(g.tags, ['terraform']);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'samsung_ssd', sizeGb: 32 }]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio' }]);
});

test('terraform.tfvars overrides defaults, and *.auto.tfvars overrides terraform.tfvars', async (t) => {
  const dir = await assemble(t, {
    'main.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/main.tf'),
    'variables.tf': join(REAL, 'telmate/ngel-castro-single-vm-module/variables.tf'),
    'terraform.tfvars': join(DERIVED, 'telmate-tfvars/terraform.tfvars'),
    'lab.auto.tfvars': join(DERIVED, 'telmate-tfvars/lab.auto.tfvars'),
  });
  const { guests, problems, files } = await readCode(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(files.sort(), ['lab.auto.tfvars', 'main.tf', 'terraform.tfvars', 'variables.tf']);
  const g = guests[0]!;
  assert.equal(g.name, 'truenas');
  assert.equal(g.node, 'pve1');
  assert.equal(g.memoryMb, 8192);
});

test('a broken .tf file is a problem naming it and the parser\'s message; the other files are still read', async (t) => {
  const dir = await assemble(t, { 'dev.tf': join(REAL, 'telmate/felipedbene-tf-proxmox/dev.tf'), 'full-clone.tf': await brokenFullClone() });
  const { guests, problems } = await readCode(dir);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^full-clone\.tf: not valid HCL/);
  assert.match(problems[0]!, /full-clone\.tf:1,44-45: Unclosed configuration block/);
  assert.deepEqual(guests.map((g) => g.name), ['DevInstance']);
});

test('a literal count expands with count.index; an unknown count leaves one guest whose name is unknown', async (t) => {
  const dir = await assemble(t, { 'ansible-host.tf': await countedAnsibleHost(2), 'full-clone.tf': await replicatedFullClone() });
  const { guests } = await readCode(dir);
  assert.equal(byAddress(guests, 'proxmox_vm_qemu.ansible-host[0]').name, 'ansible-host-0');
  assert.equal(byAddress(guests, 'proxmox_vm_qemu.ansible-host[1]').name, 'ansible-host-1');
  const replicas = byAddress(guests, 'proxmox_vm_qemu.ubuntu-server[*]');
  assert.deepEqual(replicas.name, { unknown: 'depends on count.index, and the count is unknown: var.replicas has no default and no .tfvars sets it' });
  assert.equal(replicas.vmid, 300, 'what does not depend on the count is still read');
});

test('Telmate proxmox_lxc: hostname, rootfs and the first interface', async () => {
  const g = await only(join(REAL, 'telmate/paraassekhon-homelab/main.tf'));
  assert.equal(g.kind, 'lxc');
  assert.equal(g.vmid, 115);
  assert.equal(g.name, 'lxc-basic');
  assert.equal(g.cores, 2);
  assert.equal(g.memoryMb, 2048);
  assert.equal(g.onboot, true);
  assert.deepEqual(g.disks, [{ slot: 'rootfs', storage: 'local-lvm', sizeGb: 4 }]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0' }]);
});

test('bpg VM: cpu, memory.dedicated, disk by interface, tags sorted; a clone takes no provider defaults', async () => {
  const g = await only(join(REAL, 'bpg/dragroth-boilerplates/copyvm.tf'));
  assert.equal(g.provider, 'bpg');
  assert.equal(g.vmid, 502);
  assert.equal(g.node, 'node');
  assert.equal(g.cores, 2);
  assert.equal(g.memoryMb, 1024);
  assert.deepEqual(g.tags, ['debian', 'terraform']);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'local-lvm', sizeGb: 8 }]); // size = "8"
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr100' }]);
  assert.equal(g.sockets, undefined);
  assert.equal(g.onboot, undefined);
});

test('bpg\'s own example: the template is left out; the clone keeps its own values; a data-source node is unknown', async () => {
  const { guests, problems, templates } = await readCode(join(REAL, 'bpg/bpg-example-vm'));
  assert.deepEqual(problems, []);
  assert.deepEqual(templates, ['proxmox_virtual_environment_vm.example_template'], 'template = true: not a guest to compare');
  assert.deepEqual(guests.map((g) => g.where.address), ['proxmox_virtual_environment_vm.example']);
  const clone = guests[0]!;
  assert.match((clone.node as { unknown: string }).unknown, /^data\.proxmox_virtual_environment_nodes\.example\.names\[0\] comes from a data source/);
  assert.equal(clone.memoryMb, 768);
  assert.deepEqual(clone.tags, ['terraform', 'ubuntu']);
});

test('bpg container: hostname from initialization, rootfs from a var default, a bind mount as its host path and mount point', async () => {
  const { guests, problems, templates } = await readCode(join(REAL, 'bpg/bpg-example'));
  assert.deepEqual(problems, []);
  assert.deepEqual(templates, ['proxmox_virtual_environment_container.example_template']);
  const c = byAddress(guests, 'proxmox_virtual_environment_container.example');
  assert.equal(c.kind, 'lxc');
  assert.equal(c.vmid, 2043);
  assert.equal(c.name, 'terraform-provider-proxmox-example-lxc');
  // volume = "/mnt/bindmounts/shared", path = "/shared": no storage, no size of Proxmox's
  assert.deepEqual(c.disks, [{ slot: 'rootfs', storage: 'local-lvm' }, { slot: 'mp0', path: '/mnt/bindmounts/shared', mountpoint: '/shared' }]);
});

test('Ansible: proxmox_kvm tasks give disks and NICs; a later task changes the VM only with update: true', async () => {
  const g = await only(join(REAL, 'ansible/community-proxmox-examples/proxmox_kvm_examples.yml'));
  assert.equal(g.provider, 'ansible');
  assert.equal(g.name, 'spynal');
  assert.equal(g.node, 'sabrewulf');
  assert.equal(g.where.address, 'Create new VM with one network interface, three virto hard disk, 4 cores, and 2 vcpus');
  assert.deepEqual(g.disks, [
    { slot: 'virtio0', storage: 'VMs_LVM', sizeGb: 10 },
    { slot: 'virtio1', storage: 'VMs', sizeGb: 2 },
    { slot: 'virtio2', storage: 'VMs', sizeGb: 5 },
  ]);
  // The cloud-init task (tag=77) finds the VM already there and, without update: true, changes nothing.
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr1', model: 'virtio' }]);
  assert.equal(g.cores, 8);
  assert.equal(g.memoryMb, 16384);
});

test('Ansible: a task file\'s {{ vars }} nobody sets are unknown, and start tasks declare nothing', async () => {
  const g = await only(join(REAL, 'ansible/vanyabolshoi-ansible/create_vm.yml'));
  assert.deepEqual(g.node, { unknown: "{{ node }}: node is not set in the play's vars, the role's defaults or the inventory" });
  assert.match((g.name as { unknown: string }).unknown, /^\{\{ clone_base_name \}\}/);
  assert.deepEqual(g.disks, [], 'the ISO on ide2 is a CD-ROM, not a disk');
});

for (const inventory of ['ini', 'yaml']) {
  test(`Ansible: a playbook's vars and its ${inventory.toUpperCase()} inventory's host vars resolve the task`, async (t) => {
    const play = join(DERIVED, 'ansible-play/playbook.yml');
    const dir = await assemble(t, inventory === 'ini' ? { 'playbook.yml': play, 'inventory/hosts': join(DERIVED, 'ansible-play/inventory/hosts') } : { 'playbook.yml': play, 'hosts.yml': join(DERIVED, 'ansible-play/hosts.yml') });
    const { guests, problems, files } = await readCode(dir);
    assert.deepEqual(problems, []);
    assert.ok(files.includes(inventory === 'ini' ? 'inventory/hosts' : 'hosts.yml'), files.join(', '));
    assert.equal(guests.length, 1);
    assert.equal(guests[0]!.name, 'win-clone-7');
    assert.equal(guests[0]!.node, 'px02');
  });
}

test('a path that does not exist is a problem, not a crash', async () => {
  const { guests, problems } = await readCode(join(REAL, 'no-such-folder'));
  assert.deepEqual(guests, []);
  assert.match(problems[0]!, /no-such-folder: could not be read: ENOENT/);
});
