/**
 * The Proxmox VE tools, run the way MCP and triage run them (runTool), against the loopback lab
 * API replaying real PVE answers: go-proxmox's recorded 4-node cluster (node1…node4), pve-storage's
 * disk and SMART expectations, the published task lists and a published VM config (see both
 * proxmox SOURCES.md). Two answers are placed where they were not captured, and say so: the failed
 * task list moved to node3 (node and UPID renamed) for the log test, and VM 1000's config answered
 * for vm:102. Not covered, for want of a real capture: /nodes/{node}/storage, a task log's lines,
 * and a guest list over 100 (the cap).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProxmoxReader } from '../../../src/connectors/proxmox/read.ts';
import { proxmoxTools } from '../../../src/connectors/proxmox/tools.ts';
import { runTool } from '../../../src/tools/run.ts';
import { READ_ONLY, type ToolResult, type ToolSpec } from '../../../src/tools/types.ts';
import { readFixture } from '../../helpers/fixtures.ts';
import { startLabApi, testCertificate, type LabApi } from '../../helpers/lab-api.ts';

const TOKEN_ID = 'labwatch@pve!monitor';
const SECRET = '6c0e5b3a-2f41-4d7e-9b8a-51d2c7e0f9a4';
const NODES = ['node1', 'node2', 'node3', 'node4'];

/** A whole captured body ({"data": …}). */
const body = (name: string): unknown => JSON.parse(readFixture('proxmox', name));
/** A capture of `data` only, wrapped as PVE sends it. */
const wrapped = (name: string) => ({ data: JSON.parse(readFixture('proxmox', name)) as unknown });
/** A pve-storage disk list (keyed by device): the API answers its values sorted by key. */
const diskList = (name: string) => {
  const byDev = JSON.parse(readFixture('proxmox', name)) as Record<string, unknown>;
  return { data: Object.keys(byDev).sort().map((k) => byDev[k]) };
};
/** The real PVE 6.4 task list with one failed srvreload; `onNode` moves it (node and UPID) to another node. */
const srvreloadTasks = (onNode?: string) => {
  const tasks = JSON.parse(readFixture('proxmox', 'node-tasks-failed-srvreload-pve6.4.data.json')) as Record<string, string>[];
  return { data: onNode ? tasks.map((t) => ({ ...t, node: onNode, upid: t.upid!.replace('UPID:iaclab-01-01:', `UPID:${onNode}:`) })) : tasks };
};

/** The token lacks Sys.Audit for HA: PVE answers 403 with the reason in the status line and {"data":null}. */
const HA_403 = { status: 403, reason: 'Permission check failed', body: readFixture('proxmox', 'error-403-permission-check-failed.json') };

let api: LabApi;
let tools: Map<string, ToolSpec>;
before(async () => {
  api = await startLabApi({ authorization: `PVEAPIToken=${TOKEN_ID}=${SECRET}` });
  const at = (endpoint: string, answer: Parameters<LabApi['route']>[1]) => api.route(`/api2/json${endpoint}`, answer);
  at('/cluster/status', body('cluster-status-4-nodes-quorate.json') as object);
  at('/cluster/resources', body('cluster-resources-4-nodes-qemu-storage.json') as object);
  for (const node of NODES) at(`/nodes/${node}/status`, body('node-status-pve7.4.json') as object);
  api.fault('/api2/json/cluster/ha/', HA_403);
  at('/nodes/node1/disks/list', diskList('disks-list-nvme.internal-hash.json'));
  at('/nodes/node1/disks/smart', wrapped('disks-smart-nvme-text.data.json'));
  at('/nodes/node2/disks/list', diskList('disks-list-hdd-rpm.internal-hash.json'));
  const hddSmart: Record<string, string> = { '/dev/sda': 'disks-smart-ata-hdd.data.json', '/dev/sdb': 'disks-smart-ata-hdd-attribute-failing-now.data.json' };
  at('/nodes/node2/disks/smart', (_req, url) => wrapped(hddSmart[url.searchParams.get('disk') ?? '']!));
  at('/nodes/node1/tasks', srvreloadTasks());
  at('/nodes/node1/qemu/102/config', body('qemu-config-cloudinit-cipassword-masked-qemu9.0.json') as object);
  at('/nodes/node3/tasks', srvreloadTasks('node3'));
  at('/nodes/node2/tasks', (_req, url) => (url.searchParams.get('typefilter') === 'vzdump' ? wrapped('node-tasks-vzdump-ok.data.json') : { data: [] }));
  const reader = ProxmoxReader.of({ url: api.url, token_id: TOKEN_ID, tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '5s' } as never, SECRET);
  tools = new Map(proxmoxTools(reader).map((t) => [t.name, t]));
});
after(() => api.close());

const audit = { record: async () => {} };
const call = (name: string, input: unknown = {}): Promise<ToolResult> => runTool(tools.get(name)!, input, audit, { caller: 'cli' });
/** The requests one call made. */
async function calls(name: string, input: unknown = {}): Promise<{ r: ToolResult; sent: string[] }> {
  api.take();
  const r = await call(name, input);
  return { r, sent: api.take() };
}

test('every Proxmox tool is read-only, named for the Claude API, and says when to call it', () => {
  assert.deepEqual([...tools.keys()], ['proxmox_cluster_status', 'proxmox_guests', 'proxmox_guest', 'proxmox_node_status', 'proxmox_storage', 'proxmox_disks', 'proxmox_tasks']);
  for (const t of tools.values()) {
    assert.match(t.name, /^[a-z0-9_]+$/);
    assert.deepEqual(t.annotations, READ_ONLY);
    assert.match(t.description, /\b[Cc]all it\b/, t.name);
  }
  assert.match(tools.get('proxmox_disks')!.description, /WAKES SLEEPING HDDs/);
});

test('cluster status names the quorum and every node with its versions, and says HA could not be read when the token is refused it', async () => {
  const r = await call('proxmox_cluster_status');
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /^cluster clustername: quorate, 4\/4 nodes online/);
  for (const node of NODES) assert.match(r.text, new RegExp(`${node} online, pve-manager 7\\.4-16, kernel 5\\.15\\.108-1-pve`));
  assert.match(r.text, /HA status not read: .*HTTP 403 Permission check failed.*PVEAuditor/);
  assert.equal(r.data!.quorate, true);
});

test('HA LRMs are shown as PVE words them, one whose status could not be read included', async (t) => {
  // the two elements of a real PVE 9.2 answer that were published (its master and services were not)
  const item = (name: string) => JSON.parse(readFixture('proxmox', name)) as unknown;
  api.fault('/api2/json/cluster/ha/', undefined);
  api.route('/api2/json/cluster/ha/status/current', { data: [item('ha-status-current-lrm-idle-watchdog-standby-pve9.2.item.json'), item('ha-status-current-lrm-unreadable-pve9.2.item.json')] });
  t.after(() => api.fault('/api2/json/cluster/ha/', HA_403));
  const r = await call('proxmox_cluster_status');
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /HA LRM dedicated-zap106363-1: dedicated-zap106363-1 \(idle, watchdog standby, Thu Sep 17 15:39:24 2026\)/);
  assert.match(r.text, /HA LRM \(node unknown\): \(unable to read lrm status\)/);
  assert.match(r.text, /HA services: 0/);
});

test("a node's status shows CPU, IO wait, load, memory, root filesystem, versions and uptime", async () => {
  const r = await call('proxmox_node_status', { node: 'node1' });
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /^node1: CPU 0\.3 %, IO wait 0 %, load 0 0 0 on 8 CPUs/);
  assert.match(r.text, /memory [\d.]+ % of [\d.]+ GiB used; no swap/);
  assert.match(r.text, /root filesystem [\d.]+ % of [\d.]+ GiB used, [\d.]+ GiB free/);
  assert.match(r.text, /pve-manager 7\.4-16, kernel 5\.15\.108-1-pve, up 28d 22h/);
});

test('a node the cluster does not list is refused with the nodes it has, and nothing is asked of it', async () => {
  for (const tool of ['proxmox_node_status', 'proxmox_disks', 'proxmox_tasks', 'proxmox_storage']) {
    const { r, sent } = await calls(tool, { node: 'pve9' });
    assert.equal(r.status, 'error', tool);
    assert.match(r.text, /no node "pve9" in this Proxmox VE cluster \(nodes: node1, node2, node3, node4\)/);
    assert.deepEqual(sent, ['GET /api2/json/cluster/resources'], `${tool} asked only the cluster`);
  }
  // a name that is not a host name never gets as far as the cluster
  const { r, sent } = await calls('proxmox_node_status', { node: 'node1/../../access/users' });
  assert.equal(r.status, 'error');
  assert.match(r.text, /invalid input for proxmox_node_status: node: .*node name/);
  assert.deepEqual(sent, []);
});

test('guests are listed one line each, templates marked, and filtered by tag and state', async () => {
  const all = await call('proxmox_guests');
  assert.equal(all.status, 'ok', all.text);
  assert.match(all.text, /^4 guests: 1 running, 2 stopped/);
  assert.match(all.text, /vm:100 server1 on node2: running · CPU 2\.5 % · mem 78\.5 % · up 10d 2h/);
  assert.match(all.text, /vm:101 leap154 on node1: template/);
  const tagged = await call('proxmox_guests', { tag: 'go-proxmox+cloud-init' });
  assert.deepEqual((tagged.data!.guests as { subject: string }[]).map((g) => g.subject), ['vm:102']);
  const stopped = await call('proxmox_guests', { state: 'stopped', node: 'node1' });
  assert.deepEqual((stopped.data!.guests as { subject: string }[]).map((g) => g.subject), ['vm:101', 'vm:102', 'vm:200']);
  const none = await call('proxmox_guests', { type: 'lxc' });
  assert.equal(none.status, 'no_data');
  assert.match(none.text, /no guest \(lxc\) among the cluster's 4 guests/);
});

test("one guest shows where it runs and its backups, asked of its own node, and says when its config could not be read", async () => {
  const { r, sent } = await calls('proxmox_guest', { vmid: 100 });
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /^vm:100 server1 \(VM\) on node2: running · up 10d 2h/);
  assert.ok(sent.includes('GET /api2/json/nodes/node2/tasks?typefilter=vzdump&vmid=100&limit=5'), sent.join('\n'));
  assert.match(r.text, /last backups on node2: 2026-03-24T\d\d:\d\d:\d\dZ OK/);
  // no published capture of a guest config: the stand-in answers 501, and the rest is still shown
  assert.match(r.text, /config not read: Proxmox VE .*\/nodes\/node2\/qemu\/100\/config answered HTTP 501/);
  const unknown = await calls('proxmox_guest', { vmid: 999 });
  assert.equal(unknown.r.status, 'error');
  assert.match(unknown.r.text, /no guest with vmid 999 .*call proxmox_guests/);
  assert.deepEqual(unknown.sent, ['GET /api2/json/cluster/resources']);
});

test("a guest's config is shown with the keys that may hold secrets withheld and named", async () => {
  // the real config of a cloud-init VM (PVE masks cipassword itself; sshkeys come in full), answered for vm:102
  const r = await call('proxmox_guest', { vmid: 102 });
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /^vm:102 machine-test \(VM\) on node1: stopped/);
  assert.match(r.text, /onboot no · tags admin · withheld \(may hold secrets\): cipassword, sshkeys/);
  assert.match(r.text, /ciuser: alice/);
  assert.match(r.text, /net0: virtio=BC:24:11:CB:B3:C7,bridge=vmbr0/);
  assert.doesNotMatch(JSON.stringify(r), /\*\*\*\*|ssh-ed25519|29bec92/);
  assert.deepEqual(r.data!.withheld, ['cipassword', 'sshkeys']);
  assert.match(r.text, /no vzdump run of 102 alone in node1's task list; a scheduled backup job/);
});

test("a node's drives are listed without running smartctl unless smart: true is asked for", async () => {
  const { r, sent } = await calls('proxmox_disks', { node: 'node1' });
  assert.equal(r.status, 'ok', r.text);
  assert.match(r.text, /1 drives on node1 \(SMART not read: call again with smart: true, which wakes sleeping HDDs\)/);
  assert.match(r.text, /\/dev\/nvme0n1 nvme NVME MODEL 1 500\.0 KiB · unused · SMART passed · life left 69 %/);
  assert.ok(sent.includes('GET /api2/json/nodes/node1/disks/list?skipsmart=1'), sent.join('\n'));
  assert.ok(!sent.some((c) => c.includes('/disks/smart')), 'no SMART read');

  const nvme = await calls('proxmox_disks', { node: 'node1', smart: true });
  assert.ok(nvme.sent.includes('GET /api2/json/nodes/node1/disks/smart?disk=%2Fdev%2Fnvme0n1'), nvme.sent.join('\n'));
  assert.match(nvme.r.text, /life left 69 % · 32°C · media errors 0/);
});

test('with smart: true an HDD attribute failing now is shown for the drive it is on', async () => {
  const r = await call('proxmox_disks', { node: 'node2', smart: true });
  assert.equal(r.status, 'ok', r.text);
  const lines = r.text.split('\n');
  const sdb = lines.find((l) => l.includes('/dev/sdb'))!;
  assert.match(sdb, /hdd ST4000NM0033.*SMART passed.*failing now: 190 Airflow_Temperature_Cel/);
  assert.doesNotMatch(lines.find((l) => l.includes('/dev/sda'))!, /failing now/);
});

test("failed tasks show PVE's own error text; a UPID that names another node is never sent to this one", async () => {
  const { r, sent } = await calls('proxmox_tasks', { node: 'node1' });
  assert.equal(r.status, 'ok', r.text);
  assert.match(sent[1]!, /^GET \/api2\/json\/nodes\/node1\/tasks\?since=\d+&errors=1&limit=20$/);
  assert.match(r.text, /^1 failed tasks on node1 in the last 24 h/);
  assert.match(r.text, /srvreload networking by root@pam: command 'ifreload -a' failed: exit code 1/);
  assert.match(r.text, /log not read: its UPID names node iaclab-01-01, not node1/);
  assert.ok(!sent.some((c) => c.includes('/log')), sent.join('\n'));
});

test("a failed task's log is asked of the node that ran it, and the task is still listed when the log cannot be read", async () => {
  const { r, sent } = await calls('proxmox_tasks', { node: 'node3', since_hours: 720 });
  assert.equal(r.status, 'ok', r.text);
  assert.ok(sent.includes('GET /api2/json/nodes/node3/tasks/UPID%3Anode3%3A000029DD%3A1599528B%3A6108F068%3Asrvreload%3Anetworking%3Aroot%40pam%3A/log?start=0&limit=5000'), sent.join('\n'));
  assert.equal(sent.filter((c) => c.includes('/log')).length, 1, 'only the failed task');
  assert.match(r.text, /command 'ifreload -a' failed: exit code 1 \(ended [\dT:-]+Z\)\n {4}log not read: .*HTTP 501/);
  const all = await call('proxmox_tasks', { node: 'node3', failed_only: false });
  assert.match(all.text, /^3 tasks on node3/);
});

test('each Proxmox anomaly has its first diagnostic call', () => {
  const first = (subject: string, source = 'proxmox', host = '') =>
    [...tools.values()].flatMap((t) => {
      const args = t.defaultFor?.({ source, subject, labels: { subject, source, host } });
      return args ? [`${t.name} ${JSON.stringify(args)}`] : [];
    });
  assert.deepEqual(first('pve-node:node2'), ['proxmox_node_status {"node":"node2"}']);
  assert.deepEqual(first('pve-cluster:clustername'), ['proxmox_cluster_status {}']);
  assert.deepEqual(first('ha:vm:100'), ['proxmox_cluster_status {}']);
  assert.deepEqual(first('vm:100'), ['proxmox_guest {"vmid":100}']);
  assert.deepEqual(first('ct:107'), ['proxmox_guest {"vmid":107}']);
  assert.deepEqual(first('backup:107'), ['proxmox_guest {"vmid":107}']);
  assert.deepEqual(first('pve-task:node1/qmigrate/100'), ['proxmox_tasks {"node":"node1","type":"qmigrate","failed_only":true,"since_hours":48}']);
  assert.deepEqual(first('storage:node1/local-zfs'), ['proxmox_storage {"node":"node1"}']);
  assert.deepEqual(first('storage:nas-nfs'), ['proxmox_storage {}']);
  assert.deepEqual(first('vm:100', 'alertmanager'), []);
});
