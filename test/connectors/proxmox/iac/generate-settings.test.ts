/**
 * `labwatch iac generate` keeps what a plan after import would otherwise change or destroy: a UEFI VM's
 * bios and EFI disk, machine, agent, NIC firewall, disk options, a passed-through disk; a container's
 * unprivileged flag (ForceNew in both providers), swap, features and bind mounts. Configs from
 * test/fixtures-derived/proxmox (SOURCES.md there says what each is derived from) and the real captures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onPath } from '../../../../src/connectors/binary.ts';
import { checkTerraform } from '../../../../src/connectors/proxmox/iac/check.ts';
import { readCode } from '../../../../src/connectors/proxmox/iac/code.ts';
import { compareGuests } from '../../../../src/connectors/proxmox/iac/compare.ts';
import { generateTerraform } from '../../../../src/connectors/proxmox/iac/generate.ts';
import { liveGuestOf } from '../../../../src/connectors/proxmox/iac/live.ts';
import { readFixture } from '../../../helpers/fixtures.ts';

const derived = (name: string) => JSON.parse(readFileSync(new URL(`../../../fixtures-derived/proxmox/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
const uefiConfig = derived('qemu-config-uefi-passthrough.data.json');
const mediaConfig = derived('lxc-config-unprivileged-features-bind.data.json');
const piholeConfig = derived('lxc-config-rootfs-mp-vlan.data.json');
// a privileged container: the real PVE 7 list entry, whose config states no `unprivileged` (pct.conf default 0)
const lxcItem = (JSON.parse(readFixture('proxmox', 'node-lxc-list-vmid-as-string.json')).data as Array<Record<string, unknown>>).find((c) => c.name === 'test')!;

const uefi = liveGuestOf('qemu', 'pve', 200, 'running', 'truenas', uefiConfig);
const media = liveGuestOf('lxc', 'pve', 110, 'running', 'media', mediaConfig);
const pihole = liveGuestOf('lxc', 'pve', 105, 'running', 'pihole', piholeConfig);
const privileged = liveGuestOf('lxc', 'pve', Number(lxcItem.vmid), 'stopped', String(lxcItem.name), { hostname: lxcItem.name, memory: 512 });

/** The body of one resource block, by its address, for matching. */
function resource(text: string, type: string, name: string): string {
  const start = text.indexOf(`resource "${type}" "${name}" {`);
  assert.ok(start >= 0, `no ${type}.${name} in:\n${text}`);
  return text.slice(start, text.indexOf('\n}\n', start) + 2);
}

describe('a UEFI VM with a passed-through disk', () => {
  it('bpg: bios, efi_disk, machine, agent, firewall, disk options and path_in_datastore', () => {
    const vm = resource(generateTerraform([uefi], 'bpg').text, 'proxmox_virtual_environment_vm', 'truenas');
    assert.match(vm, /\n {2}bios\s+= "ovmf"\n/);
    assert.match(vm, /\n {2}machine\s+= "q35"\n/);
    assert.match(vm, /agent \{\n\s+enabled = true\n/);
    assert.match(vm, /efi_disk \{\n\s+datastore_id\s+= "local-lvm"\n\s+type\s+= "4m"\n\s+pre_enrolled_keys = true\n/);
    assert.match(vm, /datastore_id = "local-lvm"\n\s+interface\s+= "scsi0"\n\s+size\s+= 32\n\s+iothread\s+= true\n\s+discard\s+= "on"\n\s+ssd\s+= true\n/);
    assert.match(vm, /datastore_id\s+= ""\n\s+path_in_datastore = "\/dev\/disk\/by-id\/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AB1CD"\n\s+file_format\s+= "raw"\n\s+interface\s+= "scsi1"\n\s+size\s+= 7452\n\s+backup\s+= false\n/);
    assert.match(vm, /network_device \{\n\s+bridge\s+= "vmbr0"\n\s+model\s+= "virtio"\n\s+firewall = true\n/);
  });

  it('telmate: bios, efidisk, machine, agent, firewall, disk options and passthrough { file }', () => {
    const vm = resource(generateTerraform([uefi], 'telmate').text, 'proxmox_vm_qemu', 'truenas');
    assert.match(vm, /\n {2}bios\s+= "ovmf"\n/);
    assert.match(vm, /\n {2}machine\s+= "q35"\n/);
    assert.match(vm, /\n {2}agent\s+= 1\n/);
    assert.match(vm, /efidisk \{\n\s+efitype = "4m"\n\s+storage = "local-lvm"\n/);
    assert.match(vm, /scsi0 \{\n\s+disk \{\n\s+storage\s+= "local-lvm"\n\s+size\s+= "32G"\n\s+discard\s+= true\n\s+emulatessd = true\n\s+iothread\s+= true\n/);
    assert.match(vm, /scsi1 \{\n\s+passthrough \{\n\s+file\s+= "\/dev\/disk\/by-id\/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AB1CD"\n\s+backup = false\n\s+\}/);
    assert.match(vm, /network \{\n\s+id\s+= 0\n\s+bridge\s+= "vmbr0"\n\s+model\s+= "virtio"\n\s+firewall = true\n/);
    // never an empty disk block: Telmate requires storage and size in one
    assert.doesNotMatch(vm, /disk \{\s*\}/);
  });
});

describe('containers', () => {
  it('bpg: unprivileged as Proxmox has it, swap, features, bind mount, and no empty tags', () => {
    const { text } = generateTerraform([media, pihole, privileged], 'bpg');
    const ct = resource(text, 'proxmox_virtual_environment_container', 'media');
    assert.match(ct, /\n {2}unprivileged\s+= true\n/);
    assert.match(ct, /memory \{\n\s+dedicated = 2048\n\s+swap\s+= 1024\n/);
    assert.match(ct, /features \{\n\s+nesting = true\n\s+keyctl\s+= true\n/);
    assert.match(ct, /mount_point \{\n\s+volume = "\/tank\/media"\n\s+path\s+= "\/data"\n\s+\}/);
    assert.match(ct, /network_interface \{\n\s+name\s+= "eth0"\n\s+bridge\s+= "vmbr0"\n\s+firewall = true\n/);
    const mp = resource(text, 'proxmox_virtual_environment_container', 'pihole');
    assert.match(mp, /mount_point \{\n\s+volume = "local-lvm"\n\s+path\s+= "\/data"\n\s+size\s+= "16G"\n/);
    assert.match(mp, /mount_point \{\n\s+volume = "\/mnt\/bindmounts\/shared"\n\s+path\s+= "\/shared"\n\s+\}/);
    const test = resource(text, 'proxmox_virtual_environment_container', 'test');
    assert.match(test, /\n {2}unprivileged\s+= false\n/);
    // pct.conf's swap default when the config states none
    assert.match(test, /swap\s+= 512/);
    assert.doesNotMatch(test, /tags/);
  });

  it('telmate: unprivileged, swap, features, mountpoints with their host path', () => {
    const { text } = generateTerraform([media, pihole, privileged], 'telmate');
    const ct = resource(text, 'proxmox_lxc', 'media');
    assert.match(ct, /\n {2}unprivileged = true\n\s+swap\s+= 1024\n/);
    assert.match(ct, /features \{\n\s+keyctl\s+= true\n\s+nesting = true\n/);
    assert.match(ct, /mountpoint \{\n\s+key\s+= "0"\n\s+slot\s+= 0\n\s+storage = "\/tank\/media"\n\s+volume\s+= "\/tank\/media"\n\s+mp\s+= "\/data"\n\s+\}/);
    assert.match(ct, /network \{\n\s+name\s+= "eth0"\n\s+bridge\s+= "vmbr0"\n\s+firewall = true\n/);
    const mp = resource(text, 'proxmox_lxc', 'pihole');
    assert.match(mp, /mountpoint \{\n\s+key\s+= "0"\n\s+slot\s+= 0\n\s+storage = "local-lvm"\n\s+mp\s+= "\/data"\n\s+size\s+= "16G"\n/);
    assert.match(resource(text, 'proxmox_lxc', 'test'), /\n {2}unprivileged = false\n/);
  });
});

for (const provider of ['bpg', 'telmate'] as const) {
  describe(`${provider}: the generated file`, () => {
    const guests = [uefi, media, pihole, privileged];
    const { text } = generateTerraform(guests, provider);

    it('parses and passes terraform fmt -check', async (t) => {
      const r = await checkTerraform(text);
      assert.deepEqual(r.problems, []);
      if (!onPath('terraform') && !onPath('tofu')) return t.skip('no terraform or tofu on PATH: the layout was not checked');
      assert.equal(r.fmt, 'ok');
    });

    it('says what it carries and that plan must be read before apply, never "no change"', () => {
      assert.match(text, /# Carried from the live config: name, node, vmid/);
      assert.match(text, /read terraform plan and settle every change it\n# shows before apply/);
      assert.doesNotMatch(text, /no change/i);
    });

    it('holds no MAC address, volume name or config digest', () => {
      assert.doesNotMatch(text, /BC:24:11/i);
      assert.doesNotMatch(text, /vm-\d+-disk-\d/);
      assert.doesNotMatch(text, /digest|vmgenid|smbios/);
    });

    it('reads back as code in sync with the lab it came from', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'labwatch-gen-settings-'));
      try {
        await writeFile(join(dir, 'main.tf'), text);
        const code = await readCode(dir);
        assert.deepEqual(code.problems, []);
        const drift = compareGuests(code.guests, guests);
        assert.deepEqual(
          drift.map((d) => ({ vmid: d.vmid, state: d.state, fields: d.fields })),
          guests.map((g) => ({ vmid: g.vmid, state: 'in-sync', fields: [] })).sort((a, b) => a.vmid - b.vmid),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
