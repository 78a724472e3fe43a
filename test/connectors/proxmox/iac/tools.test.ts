/**
 * iac_drift and iac_generate as MCP, triage and the CLI run them (runTool), against the loopback
 * Proxmox stand-in replaying go-proxmox's recorded cluster (which fails the test on any write), with
 * the published cloud-init VM config answered for vm 102 and the derived onboot config for vm 100.
 * Code: test/fixtures-derived/iac (see its SOURCES.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { iacCollector } from '../../../../src/connectors/proxmox/iac/collect.ts';
import { iacTools } from '../../../../src/connectors/proxmox/iac/tools.ts';
import { ProxmoxReader } from '../../../../src/connectors/proxmox/read.ts';
import { runTool } from '../../../../src/tools/run.ts';
import { READ_ONLY, type ToolResult } from '../../../../src/tools/types.ts';
import { readFixture } from '../../../helpers/fixtures.ts';
import { testCertificate } from '../../../helpers/lab-api.ts';
import { PVE_SECRET, PVE_TOKEN_ID, standIn, startPveCluster, type PveCluster } from '../../../helpers/proxmox.ts';

const CODE = fileURLToPath(new URL('../../../fixtures-derived/iac', import.meta.url));
const cloudInitVm = () => (JSON.parse(readFixture('proxmox', 'qemu-config-cloudinit-cipassword-masked-qemu9.0.json')) as { data: Record<string, unknown> }).data;
const onbootVm = () => standIn('qemu-config-onboot.data.json') as Record<string, unknown>;

let pve: PveCluster;
let reader: ProxmoxReader;
before(async () => {
  pve = await startPveCluster();
  pve.set('/nodes/node2/qemu/100/config', onbootVm());
  pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  reader = ProxmoxReader.of({ url: pve.api.url, token_id: PVE_TOKEN_ID, tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '2s' }, PVE_SECRET);
});
after(() => pve.close());

const audit = { record: async () => {} };
const call = (name: string, input: unknown, paths = [CODE]): Promise<ToolResult> =>
  runTool(iacTools(reader, paths).find((t) => t.name === name)!, input, audit, { caller: 'cli', maxBytes: 200_000 });

test('both tools are read-only, named for the Claude API, and say when to call them', () => {
  const tools = iacTools(reader, [CODE]);
  assert.deepEqual(tools.map((t) => t.name), ['iac_drift', 'iac_generate']);
  for (const t of tools) {
    assert.deepEqual(t.annotations, READ_ONLY);
    assert.match(t.description, /\bCall it\b/);
  }
});

test('without proxmox.iac.paths, iac_drift reads nothing and says what to set', async () => {
  const r = await call('iac_drift', { path: '/etc' }, []);
  assert.equal(r.status, 'error');
  assert.match(r.text, /set proxmox\.iac\.paths/);
});

test('a path outside proxmox.iac.paths is refused, also through a symlink', async () => {
  const outside = await call('iac_drift', { path: '/etc/passwd' });
  assert.equal(outside.status, 'error');
  assert.match(outside.text, /outside proxmox\.iac\.paths/);
  const root = mkdtempSync(join(tmpdir(), 'labwatch-iac-root-'));
  symlinkSync('/etc', join(root, 'escape'));
  const link = await call('iac_drift', { path: 'escape' }, [root]);
  assert.equal(link.status, 'error');
  assert.match(link.text, /outside proxmox\.iac\.paths/);
  const missing = await call('iac_drift', { path: 'nowhere.tf' });
  assert.match(missing.text, /nowhere\.tf does not exist/);
});

test('code that matches the lab: every declared guest in sync, the undeclared one listed, GETs only', async () => {
  pve.api.take();
  const r = await call('iac_drift', { path: 'lab' });
  assert.equal(r.status, 'ok', r.text);
  assert.deepEqual(r.data!.counts, { guests: 3, in_sync: 2, drifted: 0, not_in_lab: 0, no_code: 1, unmatched: 0, unknown: 0 });
  assert.match(r.text, /^vm:200 VM 200 on node1: no code declares it$/m);
  assert.ok(pve.api.take().every((s) => s.startsWith('GET ')));
});

test('memory and cores changed live show as drift in the table (vm 102: memory "16384", cores 4)', async () => {
  pve.set('/nodes/node1/qemu/102/config', { ...cloudInitVm(), memory: '16384', cores: 4 });
  try {
    const r = await call('iac_drift', { path: join(CODE, 'lab'), guest: 102 });
    assert.equal(r.status, 'ok', r.text);
    assert.deepEqual((r.data!.counts as { drifted: number }).drifted, 1);
    assert.match(r.text, /^vm:102 machine-test on node1: DRIFTED/m);
    assert.match(r.text, /^ {2}cores +2 +4$/m);
    assert.match(r.text, /^ {2}memory_mb +8192 +16384$/m);
    assert.doesNotMatch(r.text, /server1/, 'the guest filter keeps one guest');
  } finally {
    pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  }
});

test('iac_generate writes code for a live guest that parses and re-reads with zero drift', async () => {
  for (const provider of ['bpg', 'telmate'] as const) {
    pve.api.take();
    const r = await call('iac_generate', { guest: 102, provider });
    assert.equal(r.status, 'ok', r.text);
    const check = r.data!.check as { problems: string[]; round_trip_drift: number };
    assert.deepEqual(check.problems, [], provider);
    assert.equal(check.round_trip_drift, 0, `${provider}: ${JSON.stringify(r.data!.check)}`);
    assert.match(String(r.data!.code), provider === 'bpg' ? /resource "proxmox_virtual_environment_vm"/ : /resource "proxmox_vm_qemu"/);
    assert.match(String(r.data!.code), /import \{/);
    assert.doesNotMatch(String(r.data!.code), /\*{10}/, 'the masked cipassword is never written');
    assert.match(r.text, /re-read and compared with the lab: no drift/);
    assert.ok(pve.api.take().every((s) => s.startsWith('GET ')));
  }
});

test('iac_generate for every guest, and a vmid the cluster does not have is refused with the ones it has', async () => {
  const all = await call('iac_generate', { guest: 'all' });
  assert.equal(all.status, 'ok', all.text);
  assert.deepEqual(all.data!.guests, [100, 102, 200]);
  assert.equal((all.data!.check as { round_trip_drift: number }).round_trip_drift, 0, JSON.stringify(all.data!.check));
  const none = await call('iac_generate', { guest: 999 });
  assert.equal(none.status, 'error');
  assert.match(none.text, /no guest with vmid 999.*100, 102, 200/);
});

test('the code it generated is what iac_drift reads back in sync', async () => {
  const r = await call('iac_generate', { guest: 100 });
  const root = mkdtempSync(join(tmpdir(), 'labwatch-iac-gen-'));
  const file = join(root, 'main.tf');
  writeFileSync(file, String(r.data!.code));
  const d = await call('iac_drift', { path: file, guest: 100 }, [root]);
  assert.equal(d.status, 'ok', d.text);
  assert.equal((d.data!.counts as { in_sync: number }).in_sync, 1, d.text);
  assert.ok(readFileSync(file, 'utf8').includes('vm_id'));
});

test('the scheduled check makes one observation per guest, in the guest\'s group on its node, drift naming the fields', async () => {
  pve.set('/nodes/node1/qemu/102/config', { ...cloudInitVm(), scsi0: 'local-lvm:vm-1000-disk-0,size=80G' });
  try {
    const obs = await iacCollector({ reader, paths: [join(CODE, 'lab')], host: 'labwatch' }).collect(AbortSignal.timeout(10_000));
    const vm102 = obs.find((o) => o.subject === 'iac:vm:102')!;
    assert.equal(vm102.kind, 'iac');
    assert.equal(vm102.host, 'node1');
    assert.equal(vm102.group, 'vm:102', 'joins the incident of the guest (proxmox collector subject vm:102)');
    assert.equal(vm102.values.drifted, true);
    assert.equal(vm102.values.fields, 'disk scsi0 size_gb');
    assert.equal(obs.find((o) => o.subject === 'iac:vm:100')!.values.drifted, false);
    assert.equal(obs.find((o) => o.subject === 'iac:vm:200')!.values.no_code, true);
    assert.deepEqual(obs.find((o) => o.subject === 'collector:proxmox-iac/code')!.values, { ok: true, error: '' });
  } finally {
    pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  }
});

/** A copy of the lab's code (test/fixtures-derived/iac/lab) a test may change, with files of its own. */
function codeCopy(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'labwatch-iac-collect-'));
  writeFileSync(join(root, 'main.tf'), readFileSync(join(CODE, 'lab', 'main.tf'), 'utf8'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(root, name), text);
  return root;
}
// ours: code for a guest the recorded cluster does not run
const TRUENAS = 'resource "proxmox_vm_qemu" "truenas" {\n  name        = "truenas"\n  target_node = "node1"\n  vmid        = 300\n}\n';
const bySubject = <T extends { subject: string }>(obs: T[]) => new Map(obs.map((o) => [o.subject, o]));

test('code removed for a guest the lab does not run is reported gone once, so its incident resolves', async () => {
  const root = codeCopy({ 'truenas.tf': TRUENAS });
  const collector = iacCollector({ reader, paths: [root], host: 'labwatch' });
  const first = bySubject(await collector.collect(AbortSignal.timeout(10_000)));
  assert.equal(first.get('iac:vm:300')!.values.not_in_lab, true);
  unlinkSync(join(root, 'truenas.tf'));
  const second = await collector.collect(AbortSignal.timeout(10_000));
  assert.deepEqual(second.filter((o) => o.gone).map((o) => o.subject), ['iac:vm:300']);
  const third = await collector.collect(AbortSignal.timeout(10_000));
  assert.deepEqual(third.filter((o) => o.gone), [], 'said once');
});

test('a file that stops parsing holds the verdict of the guests it declared (no "no code", no gone) and names them; fixed, they are judged again', async () => {
  pve.set('/nodes/node1/qemu/102/config', { ...cloudInitVm(), memory: '16384' });
  try {
    const root = codeCopy({ 'truenas.tf': TRUENAS });
    const collector = iacCollector({ reader, paths: [root], host: 'labwatch' });
    const good = bySubject(await collector.collect(AbortSignal.timeout(10_000)));
    assert.equal(good.get('iac:vm:102')!.values.drifted, true);
    const text = readFileSync(join(root, 'main.tf'), 'utf8');
    writeFileSync(join(root, 'main.tf'), `${text}\nresource "proxmox_vm_qemu" "half" {\n  vmid = \n`);
    const broken = await collector.collect(AbortSignal.timeout(10_000));
    const subjects = broken.map((o) => o.subject);
    assert.ok(!subjects.includes('iac:vm:102') && !subjects.includes('iac:vm:100'), subjects.join(', '));
    assert.deepEqual(broken.filter((o) => o.gone), []);
    assert.equal(bySubject(broken).get('iac:vm:300')!.values.not_in_lab, true, 'the file that still reads is judged');
    const problem = bySubject(broken).get('collector:proxmox-iac/code')!.values;
    assert.equal(problem.ok, false);
    assert.match(String(problem.error), /main\.tf.*not judged until the code reads again: iac:vm:100, iac:vm:102$/);
    writeFileSync(join(root, 'main.tf'), text);
    const fixed = bySubject(await collector.collect(AbortSignal.timeout(10_000)));
    assert.equal(fixed.get('iac:vm:102')!.values.drifted, true);
    assert.deepEqual(fixed.get('collector:proxmox-iac/code')!.values, { ok: true, error: '' });
  } finally {
    pve.set('/nodes/node1/qemu/102/config', cloudInitVm());
  }
});

test('a template declared in code is left out, as the lab\'s templates are, and said so (not "not in the lab")', async () => {
  // ours, in bpg's documented layout: `template = true` on a VM the cluster does not run
  const root = codeCopy({ 'template.tf': 'resource "proxmox_virtual_environment_vm" "debian" {\n  name      = "debian-12-template"\n  node_name = "node1"\n  vm_id     = 9000\n  template  = true\n}\n' });
  const r = await call('iac_drift', { path: root }, [root]);
  assert.equal(r.status, 'ok', r.text);
  assert.equal((r.data!.counts as { not_in_lab: number }).not_in_lab, 0, r.text);
  assert.match(r.text, /templates, not compared: .*proxmox_virtual_environment_vm\.debian/);
});

test('a guest declared twice is one observation, naming both places', async () => {
  const root = codeCopy({ 'again.tf': readFileSync(join(CODE, 'lab', 'main.tf'), 'utf8').replace(/"machine_test"/, '"machine_test_again"').replace(/resource "proxmox_virtual_environment_vm"[^]*?\n}\n/, '') });
  const obs = await iacCollector({ reader, paths: [root], host: 'labwatch' }).collect(AbortSignal.timeout(10_000));
  const vm102 = obs.filter((o) => o.subject === 'iac:vm:102');
  assert.equal(vm102.length, 1);
  assert.match(String(vm102[0]!.values.problems), /^declared twice: again\.tf:\d+: proxmox_vm_qemu\.machine_test_again, main\.tf:30: proxmox_vm_qemu\.machine_test$/);
});

test("real homelab code against a real VM config: a proposed block is checked before it is shown, field by field", async () => {
  // felipedbene/tf-proxmox's dev.tf (test/fixtures/iac/SOURCES.md) declares vm 201 "DevInstance"; the cluster runs
  // a vm 201 under that name whose config is the published cloud-init capture (test/fixtures/proxmox/SOURCES.md).
  const resources = (JSON.parse(readFileSync(join(fileURLToPath(new URL('../../../../../shared/fixtures/proxmox/', import.meta.url)), 'cluster-resources-4-nodes-qemu-storage.json'), 'utf8')) as { data: Record<string, unknown>[] }).data;
  pve.set('/cluster/resources', [...resources, { id: 'qemu/201', type: 'qemu', vmid: 201, name: 'DevInstance', node: 'node1', status: 'running', template: 0 }]);
  pve.set('/nodes/node1/qemu/201/config', { ...cloudInitVm(), name: 'DevInstance' });
  try {
    const code = readFileSync(fileURLToPath(new URL('../../../fixtures/iac/telmate/felipedbene-tf-proxmox/dev.tf', import.meta.url)), 'utf8');
    // No proxmox.iac.paths needed: the text is checked, nothing is read from disk.
    const r = await call('iac_drift', { code }, []);
    assert.equal(r.status, 'ok', r.text);
    assert.deepEqual(r.data!.counts, { guests: 1, in_sync: 0, drifted: 1, not_in_lab: 0, no_code: 0, unmatched: 0, unknown: 0 });
    assert.match(r.text, /^vm:201 DevInstance on node1: DRIFTED/m);
    assert.match(r.text, /^ {2}node +pve-1 +node1$/m);
    assert.match(r.text, /^ {2}cores +4 +2$/m);
    assert.match(r.text, /^ {2}disk scsi0 size_gb +90 GiB +64 GiB$/m);
    assert.match(r.text, /^ {2}nic net0 bridge +vmbr1 +vmbr0$/m);
    assert.match(r.text, /^ {2}nic net0 mtu +9000 +not set$/m);
    assert.doesNotMatch(r.text, /memory_mb/, 'memory agrees (8192 both)');
    // A block that does not parse is said to, with the parser's words.
    const broken = await call('iac_drift', { code: 'resource "proxmox_vm_qemu" "x" {\n  vmid = \n' }, []);
    assert.equal(broken.status, 'error');
    assert.match(broken.text, /does not parse/);
  } finally {
    pve.api.route('/api2/json/cluster/resources', { data: resources });
  }
});
