/**
 * The cluster's side of IaC drift: real guest configs read into the shape code is read into.
 * Configs: the published cloud-init VM (test/fixtures/proxmox/qemu-config-cloudinit-*.json, memory a
 * string, a cloud-init CD-ROM), the derived onboot VM and LXC stand-ins (test/fixtures-derived/proxmox,
 * labelled there), and go-proxmox's recorded 4-node cluster through the loopback stand-in. Where a test
 * changes one key of a real config, it says which.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { liveGuestOf, readLiveGuests } from '../../../../src/connectors/proxmox/iac/live.ts';
import { ProxmoxReader } from '../../../../src/connectors/proxmox/read.ts';
import { readFixture } from '../../../helpers/fixtures.ts';
import { testCertificate } from '../../../helpers/lab-api.ts';
import { PVE_SECRET, PVE_TOKEN_ID, standIn, startPveCluster, type PveCluster } from '../../../helpers/proxmox.ts';

const cloudInitVm = () => (JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')) as { data: Record<string, unknown> }).data;

test('a real VM config: memory given as a string, the cloud-init drive left out, defaults where Proxmox leaves a key out', () => {
  const g = liveGuestOf('qemu', 'node1', 102, 'stopped', 'machine-test', cloudInitVm());
  assert.equal(g.memoryMb, 8192);
  assert.equal(g.cores, 2);
  assert.equal(g.sockets, 1);
  assert.equal(g.onboot, false, 'onboot absent = off');
  assert.deepEqual(g.tags, ['admin']);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'local-lvm', sizeGb: 64 }], 'ide2 (cloud-init, media=cdrom) is not a disk');
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio' }]);
  assert.equal(g.name, 'machine-test');
  assert.equal(g.node, 'node1');
});

test('PVE 8.1 memory as `current=`, a VLAN tag and MTU on a NIC, and sizes in M and T (keys changed in the real config)', () => {
  const g = liveGuestOf('qemu', 'node1', 102, 'running', 'machine-test', {
    ...cloudInitVm(),
    memory: 'current=4096',
    net0: 'virtio=BC:24:11:CB:B3:C7,bridge=vmbr0,firewall=1,mtu=9000,tag=20',
    scsi1: 'local-lvm:vm-1000-disk-1,size=512M',
    virtio2: 'tank:vm-1000-disk-2,size=1T',
  });
  assert.equal(g.memoryMb, 4096);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'virtio', tag: 20, mtu: 9000 }]);
  assert.deepEqual(g.disks.map((d) => [d.slot, d.sizeGb]), [['scsi0', 64], ['scsi1', 0.5], ['virtio2', 1024]]);
});

test('the onboot stand-in: onboot 1 is on, memory "1024"', () => {
  const g = liveGuestOf('qemu', 'node2', 100, 'running', 'server1', standIn('qemu-config-onboot.data.json') as Record<string, unknown>);
  assert.equal(g.onboot, true);
  assert.equal(g.memoryMb, 1024);
  assert.deepEqual(g.disks, [{ slot: 'scsi0', storage: 'local-zfs', sizeGb: 32 }]);
});

test('a container: rootfs and mount points are disks with their path inside, a bind mount its host path; veth NIC with its tag; tags sorted', () => {
  const g = liveGuestOf('lxc', 'node1', 105, 'running', 'pihole', standIn('lxc-config-rootfs-mp-vlan.data.json') as Record<string, unknown>);
  assert.equal(g.kind, 'lxc');
  assert.equal(g.memoryMb, 512);
  assert.equal(g.cores, 1);
  assert.equal(g.sockets, undefined, 'containers have no sockets');
  assert.deepEqual(g.disks, [
    { slot: 'rootfs', storage: 'local-lvm', sizeGb: 8 },
    { slot: 'mp0', storage: 'local-lvm', sizeGb: 16, mountpoint: '/data' },
    { slot: 'mp1', path: '/mnt/bindmounts/shared', mountpoint: '/shared' },
  ]);
  assert.deepEqual(g.nics, [{ slot: 'net0', bridge: 'vmbr0', model: 'veth', tag: 20, name: 'eth0' }]);
  assert.deepEqual(g.tags, ['dns', 'infra']);
});

test('a disk passed through to a VM (the TrueNAS case) is a disk with its device path, no storage (scsi1 added to the real config)', () => {
  const g = liveGuestOf('qemu', 'node1', 102, 'running', 'machine-test', { ...cloudInitVm(), scsi1: '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_VAGASB8L,size=7814026584K' });
  const disk = g.disks.find((d) => d.slot === 'scsi1')!;
  assert.equal(disk.path, '/dev/disk/by-id/ata-WDC_WD80EFAX-68KNBN0_VAGASB8L');
  assert.equal(disk.storage, undefined);
  assert.equal(Math.round(disk.sizeGb as number), 7452);
});

let pve: PveCluster;
before(async () => {
  pve = await startPveCluster();
});
after(() => pve.close());
const reader = () => ProxmoxReader.of({ url: pve.api.url, token_id: PVE_TOKEN_ID, tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '2s' }, PVE_SECRET);

test('every guest of the recorded cluster is read with its config, templates left out, with GETs only', async () => {
  pve.api.take();
  const guests = await readLiveGuests(reader());
  assert.deepEqual(guests.map((g) => [g.vmid, g.name, g.node, g.status]), [
    [100, 'server1', 'node2', 'running'],
    [102, 'machine-test', 'node1', 'stopped'],
    [200, 'VM 200', 'node1', 'stopped'],
  ]);
  const sent = pve.api.take();
  assert.ok(sent.every((s) => s.startsWith('GET ')), sent.join('\n'));
  assert.ok(sent.some((s) => s.includes('/nodes/node2/qemu/100/config')), sent.join('\n'));
  assert.ok(!sent.some((s) => s.includes('/qemu/101/config')), 'the template is not read');
});

test('a config that cannot be read fails the read, naming the guest, rather than calling its code "not in the lab"', async () => {
  pve.api.fault('/api2/json/nodes/node1/qemu/102/config', { status: 500, reason: 'Internal Server Error' });
  try {
    await assert.rejects(readLiveGuests(reader()), /vm:102 \(machine-test\) on node1/);
  } finally {
    pve.api.fault('/api2/json/nodes/node1/qemu/102/config', undefined);
  }
});
