/**
 * The seed's cross-system fault, end to end: Proxmox bridges and the firewall's storage VLAN at
 * MTU 9000, the TrueNAS VLAN at 1500, and input errors growing on the firewall's trunk. The real
 * daemon polls three loopback stand-ins (Proxmox VE and OPNsense from real captures, TrueNAS from
 * its derived answers; the MTUs and the error growth are this scenario's changes), raises one
 * incident naming the odd interface, and `labwatch ask` answers "what's causing the high network
 * latency between the Kubernetes cluster and TrueNAS?" through the tools, against a scripted model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Anomaly } from '../../src/connectors/types.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { readFixture } from '../helpers/fixtures.ts';
import { testCertificate } from '../helpers/lab-api.ts';
import { runLabwatch } from '../helpers/process.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { OPN_KEY, OPN_SECRET, startOpnsense, type OpnsenseStandIn } from '../helpers/opnsense.ts';
import { PVE_SECRET, startPveCluster, type PveCluster } from '../helpers/proxmox.ts';
import { startTrueNas, TN_KEY, TN_USER, type TrueNasStandIn } from '../helpers/truenas.ts';
import { waitFor } from '../helpers/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-path-'));
const secret = (name: string, value: string) => {
  const p = join(dir, name);
  writeFileSync(p, `${value}\n`, { mode: 0o600 });
  return p;
};

let pve: PveCluster;
let nas: TrueNasStandIn;
let fw: OpnsenseStandIn;
let lab: Lab;
let blocks: string;
const firing = (as: Anomaly[]) => as.filter((a) => a.status === 'firing');

before(async () => {
  [pve, nas, fw] = await Promise.all([startPveCluster(), startTrueNas(), startOpnsense()]);
  // the scenario: the storage bridges and the firewall's storage VLAN at 9000 (the real answers say 1500)
  const network = JSON.parse(readFixture('proxmox', 'node-network-bridge-mtu-string-vlan.json')) as { data: Record<string, unknown>[] };
  for (const i of network.data) if (i.iface === 'vmbr2') i.mtu = '9000';
  for (const node of ['node1', 'node2']) pve.api.route(`/api2/json/nodes/${node}/network`, network);
  for (const r of fw.interfaces) if (r.device === 'ax0_vlan5') r.mtu = '9000';
  const fwUrl = fw.api.url.replace('127.0.0.1', 'localhost');
  blocks =
    pve.yaml(secret('pve', PVE_SECRET)) +
    `truenas:\n  url: ${nas.url}\n  username: ${TN_USER}\n  api_key_file: ${secret('tn', TN_KEY)}\n  tls_fingerprint: "${testCertificate().fingerprint}"\n` +
    `opnsense:\n  url: ${fwUrl}\n  key_file: ${secret('opn-key', OPN_KEY)}\n  secret_file: ${secret('opn-secret', OPN_SECRET)}\n  tls_fingerprint: "${testCertificate().fingerprint}"\n` +
    // the owner names the storage network's interfaces on each system
    `network:\n  mtu_groups:\n    storage: ["node1:vmbr2", "node2:vmbr2", "nas:vlan20", "localhost:ax0_vlan5"]\n`;
  lab = await startLab({
    channels: ['email'],
    notifyExtra: { routes: [{ channels: ['email'], mode: 'immediate' }] },
    watchYaml:
      'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n' +
      '  proxmox: { schedule: "0 0 1 1 *", disks: { enabled: false } }\n  truenas: { schedule: "0 0 1 1 *" }\n  opnsense: { schedule: "0 0 1 1 *" }',
    extraYaml: blocks,
  });
});
after(async () => {
  await lab?.stop();
  await Promise.all([pve?.close(), nas?.close(), fw?.close()]);
});

test('MTU 9000 on Proxmox and OPNsense but 1500 on TrueNAS: one incident, naming the NAS interface, both MTUs and the fix', async () => {
  const t0 = Date.now() - 10 * 60_000;
  const at = (m: number) => new Date(t0 + m * 60_000);
  const runs = [await lab.daemon.watcher.run('proxmox', { now: at(0) }), await lab.daemon.watcher.run('opnsense', { now: at(0) }), await lab.daemon.watcher.run('truenas', { now: at(1) })];
  const differs = runs.flatMap((r) => firing(r.anomalies)).filter((a) => a.rule === 'network-path-mtu-differs');
  assert.deepEqual(differs.map((a) => `${a.host} ${a.subject}`), ['nas if:vlan20'], 'only the odd one out');
  assert.equal(differs[0]!.summary, 'nas:vlan20 has MTU 1500, but storage uses 9000 (localhost:ax0_vlan5 9000, nas:vlan20 1500, node1:vmbr2 9000, node2:vmbr2 9000)');
  const mail = await waitFor('the report', () => lab.smtp.messages.find((m) => (m.parsed.text ?? '').includes('nas:vlan20 has MTU 1500')));
  const text = mail.parsed.text ?? '';
  assert.match(text, /Set MTU 9000 on nas:vlan20/);
  assert.match(text, /ping -M do -s 8972/);

  // input errors grow on the firewall's trunk under the storage VLAN (the real ax1 record has 1675; ax0 is the derived trunk)
  fw.counter('ax0', 'input errors', '120');
  await lab.daemon.watcher.run('opnsense', { now: at(2) });
  fw.counter('ax0', 'input errors', '480');
  const errors = firing((await lab.daemon.watcher.run('opnsense', { now: at(4) })).anomalies).filter((a) => a.subject === 'if:ax0');
  assert.deepEqual(errors.map((a) => a.rule), ['host-interface-errors-growing']);
});

test('labwatch ask "what\'s causing the high network latency between the Kubernetes cluster and TrueNAS?" answers through the path and interface tools', async () => {
  const api = await new ScriptedAnthropic().start();
  try {
    const config = join(dir, 'ask.yaml');
    writeFileSync(
      config,
      `redis:\n  url: "${lab.config.redis.url}"\n  prefix: ${lab.prefix}\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n` +
        'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n' +
        blocks +
        `anthropic:\n  api_key_file: ${secret('anthropic', 'lw-fake-anthropic-key-0123456789')}\n  base_url: ${api.url}\n  max_turns: 4\n`,
    );
    api.script(
      { toolUse: [{ name: 'network_paths', input: {} }] },
      { toolUse: [{ name: 'opnsense_interfaces', input: {} }] },
      { text: 'nas:vlan20 runs MTU 1500 while the storage path uses 9000, and input errors grow on the firewall trunk ax0: set MTU 9000 on the NAS VLAN and check the ax0 cable.' },
    );
    const { code, stdout, stderr } = await runLabwatch(['ask', "what's causing the high network latency between the Kubernetes cluster and TrueNAS?", '--config', config], dir);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /^→ network_paths \{\}$/m);
    assert.match(stderr, /^→ opnsense_interfaces \{\}$/m);
    assert.match(stdout, /MTU 1500/);
    const offered = api.requests[0]!.body.tools.map((t) => t.name);
    for (const t of ['network_paths', 'truenas_interfaces', 'opnsense_interfaces', 'proxmox_node_status']) assert.ok(offered.includes(t), `${t} offered`);
    const result = (i: number) => ((api.requests[i]!.body.messages.at(-1)!.content as { content: string }[])[0]!.content);
    assert.match(result(1), /storage: .*nas:vlan20 1500.* — MTU DIFFERS: nas:vlan20 should be 9000/);
    assert.match(result(2), /ax0/);
    assert.match(result(2), /480/);
    const audited = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string });
    assert.deepEqual(audited.map((a) => a.tool), ['network_paths', 'opnsense_interfaces']);
  } finally {
    await api.stop();
  }
});
