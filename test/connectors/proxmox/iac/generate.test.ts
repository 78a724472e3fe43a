/**
 * `labwatch iac generate`: Terraform written from real guest configs (the captures named in
 * test/fixtures/proxmox/SOURCES.md, test/fixtures-derived/proxmox/SOURCES.md and the shared
 * fixtures' SOURCES.md), for both providers, then checked: it parses, `terraform fmt -check`
 * passes where terraform is installed, and reading it back finds no drift against the lab it came from.
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
import type { LiveGuest } from '../../../../src/connectors/proxmox/iac/model.ts';
import { readFixture } from '../../../helpers/fixtures.ts';

// the captures name no node; vmids come from their own volume names (vm-1000-…, vm-100-…)
const cloudInitConfig = JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')).data as Record<string, unknown>;
const onbootConfig = JSON.parse(readFileSync(new URL('../../../fixtures-derived/proxmox/qemu-config-onboot.data.json', import.meta.url), 'utf8')) as Record<string, unknown>;
// a container as the real PVE 7 list shows it (vmid a string there): name, 512 MiB, 1 CPU; no config capture exists
const lxcItem = (JSON.parse(readFixture('proxmox', 'node-lxc-list-vmid-as-string.json')).data as Array<Record<string, unknown>>).find((c) => c.name === 'test')!;

const live: LiveGuest[] = [
  liveGuestOf('qemu', 'pve', 1000, 'running', String(cloudInitConfig.name), cloudInitConfig),
  liveGuestOf('qemu', 'pve', 100, 'stopped', String(onbootConfig.name), onbootConfig),
  liveGuestOf('lxc', 'pve', Number(lxcItem.vmid), String(lxcItem.status), String(lxcItem.name), {
    hostname: lxcItem.name,
    memory: Number(lxcItem.maxmem) / 1024 ** 2,
    cores: lxcItem.cpus,
  }),
];

for (const provider of ['bpg', 'telmate'] as const) {
  describe(`generated ${provider} Terraform`, () => {
    const { text, variables } = generateTerraform(live, provider);

    it('parses, and terraform fmt leaves it as it is', async (t) => {
      const r = await checkTerraform(text);
      assert.deepEqual(r.problems, []);
      if (!onPath('terraform') && !onPath('tofu')) {
        assert.equal(r.fmt, 'no terraform binary');
        t.skip('no terraform or tofu on PATH: the layout was not checked');
        return;
      }
      assert.equal(r.fmt, 'ok');
    });

    it('reads back as code that matches the lab it came from: zero drift', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'labwatch-gen-'));
      try {
        await writeFile(join(dir, 'main.tf'), text);
        const code = await readCode(dir);
        assert.deepEqual(code.problems, []);
        const drift = compareGuests(code.guests, live);
        assert.deepEqual(
          drift.map((d) => ({ vmid: d.vmid, state: d.state, fields: d.fields })),
          live.map((g) => ({ vmid: g.vmid, state: 'in-sync', fields: [] })).sort((a, b) => a.vmid - b.vmid),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('turns the masked cloud-init password into a sensitive variable without a default', () => {
      assert.ok(variables.includes('admin_wazuh_cipassword'), variables.join(', '));
      assert.ok(!text.includes('**********'));
      const block = /variable "admin_wazuh_cipassword" \{\n([^}]*)\}/.exec(text)?.[1] ?? '';
      assert.match(block, /sensitive\s+= true/);
      assert.doesNotMatch(block, /default/);
      assert.match(text, provider === 'bpg' ? /password = var\.admin_wazuh_cipassword/ : /cipassword\s+= var\.admin_wazuh_cipassword/);
    });

    it('writes no MAC address and no disk volume name', () => {
      assert.doesNotMatch(text, /BC:24:11/i);
      assert.doesNotMatch(text, /vm-1000-disk-0|vm-100-disk-0|cloudinit\.qcow2/);
    });

    it('imports each guest by the id its provider documents', () => {
      const ids = [...text.matchAll(/import \{\n\s+to = (\S+)\n\s+id = "([^"]+)"/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(
        ids,
        provider === 'bpg'
          ? [
              ['proxmox_virtual_environment_vm.server1', 'pve/100'],
              ['proxmox_virtual_environment_container.test', 'pve/106'],
              ['proxmox_virtual_environment_vm.admin_wazuh', 'pve/1000'],
            ]
          : [
              ['proxmox_vm_qemu.server1', 'pve/qemu/100'],
              ['proxmox_lxc.test', 'pve/lxc/106'],
              ['proxmox_vm_qemu.admin_wazuh', 'pve/qemu/1000'],
            ],
      );
      assert.match(text, new RegExp(`source = "${provider}/proxmox"`));
    });
  });
}

describe('resource names', () => {
  it('are Terraform identifiers, unique, even for names that start with a digit or repeat', () => {
    const base = live[1]!;
    const guests = [
      { ...base, vmid: 201, name: '9lives.example.com' },
      { ...base, vmid: 202, name: 'Web-01' },
      { ...base, vmid: 203, name: 'web_01' },
    ];
    const { text } = generateTerraform(guests, 'telmate');
    const names = [...text.matchAll(/resource "proxmox_vm_qemu" "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names, ['vm_9lives_example_com', 'web_01', 'web_01_203']);
  });
});

describe('checking Terraform', () => {
  it('says where text does not parse', async () => {
    const r = await checkTerraform('resource "proxmox_vm_qemu" "x" {\n  memory =\n');
    assert.match(r.problems[0] ?? '', /does not parse: .*main\.tf:2/);
  });

  it('shows the layout terraform fmt would change, as a diff', async (t) => {
    if (!onPath('terraform') && !onPath('tofu')) return t.skip('no terraform or tofu on PATH');
    const r = await checkTerraform('resource "proxmox_vm_qemu" "x" {\n  memory = 512\n  cores = 2\n}\n');
    assert.equal(r.fmt, 'differs');
    assert.match(r.problems.join('\n'), /fmt would change the layout:[\s\S]*\+\s+cores\s+= 2/);
  });
});
