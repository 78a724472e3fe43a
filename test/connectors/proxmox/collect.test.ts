/**
 * The Proxmox collector against the loopback cluster (real captures, real HTTPS): what a slow or
 * failing node, a refused endpoint, a wrong token, a wrong certificate and an answer of the wrong
 * shape look like to the person reading labwatch's report, and how many calls one poll costs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { proxmoxCollector } from '../../../src/connectors/proxmox/collect.ts';
import type { ProxmoxConfig } from '../../../src/connectors/proxmox/config.ts';
import { ProxmoxReader } from '../../../src/connectors/proxmox/read.ts';
import type { Observation } from '../../../src/connectors/types.ts';
import { readFixture } from '../../helpers/fixtures.ts';
import { testCertificate } from '../../helpers/lab-api.ts';
import { PVE_SECRET, PVE_TOKEN_ID, startPveCluster, taskLog, vzdumpTask, type PveCluster } from '../../helpers/proxmox.ts';

function reader(pve: PveCluster, over: Partial<ProxmoxConfig> = {}, secret = PVE_SECRET): ProxmoxReader {
  return ProxmoxReader.of({ url: pve.api.url, token_id: PVE_TOKEN_ID, tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '1s', ...over }, secret);
}
const collectorOf = (o: Observation[], node: string) => o.find((x) => x.subject === `collector:proxmox/${node}`)!;

describe('reading a Proxmox VE cluster', () => {
  let pve: PveCluster;
  before(async () => {
    pve = await startPveCluster();
  });
  after(() => pve.close());

  test('a node that stalls costs one timeout, is reported once, and the other nodes are still read', async () => {
    pve.api.fault('/api2/json/nodes/node3/', 'stall');
    try {
      const started = Date.now();
      const obs = await proxmoxCollector({ reader: reader(pve) }).collect(AbortSignal.timeout(20_000));
      assert.ok(Date.now() - started < 5_000, 'one 1 s timeout for node3, not one per endpoint');
      const node3 = collectorOf(obs, 'node3');
      assert.equal(node3.values.ok, false);
      assert.match(String(node3.values.error), /nodes\/node3\/status did not answer within 1 s/);
      assert.equal(String(node3.values.error).split('did not answer').length, 2, 'reported once');
      for (const n of ['node1', 'node2', 'node4']) {
        assert.equal(collectorOf(obs, n).values.ok, true, `${n}: ${String(collectorOf(obs, n).values.error)}`);
        assert.ok(obs.some((o) => o.subject === `pve-node:${n}` && o.values.online === true));
      }
      assert.ok(!obs.some((o) => o.subject === 'pve-node:node3' && o.values.cpu_pct !== undefined));
    } finally {
      pve.api.fault('/api2/json/nodes/node3/', undefined);
    }
  });

  test('a node whose connection drops is reported once too', async () => {
    pve.api.fault('/api2/json/nodes/node4/', 'drop');
    try {
      const obs = await proxmoxCollector({ reader: reader(pve) }).collect(AbortSignal.timeout(20_000));
      assert.match(String(collectorOf(obs, 'node4').values.error), /cannot reach Proxmox VE .*the connection was dropped|socket hang up/);
      assert.equal(collectorOf(obs, 'node1').values.ok, true);
    } finally {
      pve.api.fault('/api2/json/nodes/node4/', undefined);
    }
  });

  test('a 5xx from one node stops reading that node only; a refused endpoint names the privilege and the fix', async () => {
    pve.api.fault('/api2/json/nodes/node2/', { status: 500, reason: 'Internal Server Error' });
    pve.api.fault('/api2/json/cluster/ha', { status: 403, reason: 'Permission check failed (/, Sys.Audit)' });
    try {
      const obs = await proxmoxCollector({ reader: reader(pve) }).collect(AbortSignal.timeout(20_000));
      const node2 = String(collectorOf(obs, 'node2').values.error);
      assert.match(node2, /node2\/status answered HTTP 500/);
      assert.equal(node2.split('HTTP 500').length, 2, 'one line for the node, not one per endpoint');
      const cluster = String(collectorOf(obs, 'clustername').values.error);
      assert.match(cluster, /cluster\/ha\/status\/current.*Sys\.Audit.*pveum acl modify \/ --tokens 'labwatch@pve!monitor' --roles PVEAuditor/);
      assert.ok(obs.some((o) => o.subject === 'pve-node:node1' && typeof o.values.cpu_pct === 'number'));
    } finally {
      pve.api.fault('/api2/json/nodes/node2/', undefined);
      pve.api.fault('/api2/json/cluster/ha', undefined);
    }
  });

  test('an answer of the wrong shape is named with its endpoint; the rest of the node is still read', async () => {
    const status = JSON.parse(readFixture('proxmox', 'node-status-pve7.4.json')) as { data: Record<string, unknown> };
    delete status.data.memory;
    pve.api.route('/api2/json/nodes/node4/status', status);
    try {
      const obs = await proxmoxCollector({ reader: reader(pve) }).collect(AbortSignal.timeout(20_000));
      assert.match(String(collectorOf(obs, 'node4').values.error), /\/nodes\/node4\/status answered in a shape labwatch does not know \(memory: missing/);
      assert.ok(obs.some((o) => o.kind === 'interface' && o.host === 'node4'), 'node4 network still read');
    } finally {
      pve.api.route('/api2/json/nodes/node4/status', JSON.parse(readFixture('proxmox', 'node-status-pve7.4.json')));
    }
  });

  test('a wrong token or an unpinned certificate fails the whole poll with what to change, never the secret', async () => {
    const api2 = await startPveClusterExpectingBadToken();
    try {
      const e401 = await proxmoxCollector({ reader: reader(api2, {}, 'not-the-secret') }).collect(AbortSignal.timeout(5_000)).catch((e: Error) => e);
      assert.match(String(e401), /refused the token \(HTTP 401.*proxmox\.token_id \(labwatch@pve!monitor\).*LABWATCH_PROXMOX_TOKEN_SECRET/);
      assert.doesNotMatch(String(e401), /not-the-secret/);
    } finally {
      await api2.close();
    }
    const etls = await proxmoxCollector({ reader: reader(pve, { tls_fingerprint: undefined }) }).collect(AbortSignal.timeout(5_000)).catch((e: Error) => e);
    assert.match(String(etls), new RegExp(`not trusted.*proxmox\\.tls_fingerprint: "${testCertificate().fingerprint}"`));
    assert.match(String(etls), /proxmox\.ca_file \(Proxmox: \/etc\/pve\/pve-root-ca\.pem on any node\)/, "Proxmox's own place for its CA");
  });

  test('one poll of a 3-node cluster with 30 guests costs a bounded number of calls, fewer once configs are known', async (t) => {
    // the real 4-node answers cut to 3 nodes, and the real guests repeated to 30 (10 a node, every other one stopped)
    const status = JSON.parse(readFixture('proxmox', 'cluster-status-4-nodes-quorate.json')) as { data: Record<string, unknown>[] };
    status.data = status.data.filter((e) => e.name !== 'node4').map((e) => (e.type === 'cluster' ? { ...e, nodes: 3 } : e));
    const resources = JSON.parse(readFixture('proxmox', 'cluster-resources-4-nodes-qemu-storage.json')) as { data: Record<string, unknown>[] };
    const running = resources.data.find((r) => r.type === 'qemu' && r.status === 'running')!;
    const stopped = resources.data.find((r) => r.type === 'qemu' && r.status === 'stopped' && !r.template)!;
    const guests = Array.from({ length: 30 }, (_, i) => ({ ...(i % 2 ? stopped : running), vmid: 1000 + i, id: `qemu/${1000 + i}`, node: `node${(i % 3) + 1}` }));
    pve.api.route('/api2/json/cluster/status', status);
    pve.api.route('/api2/json/cluster/resources', { data: guests });
    for (let i = 0; i < 30; i++) pve.set(`/nodes/node${(i % 3) + 1}/qemu/${1000 + i}/config`, { name: `guest${i}` });
    try {
      const c = proxmoxCollector({ reader: reader(pve) });
      pve.api.take();
      await c.collect(AbortSignal.timeout(20_000));
      const first = pve.api.take().length;
      await c.collect(AbortSignal.timeout(20_000));
      const second = pve.api.take().length;
      // per poll: cluster status, resources, HA; per node: status, storage, ZFS list (+1 per pool), two task lists, network
      assert.equal(second, 3 + 3 * 6 + 1, `steady poll: ${second} calls`);
      // the 15 stopped guests' configs and node1's backup job log are read once, then remembered
      assert.equal(first - second, 16);
      t.diagnostic(`calls per poll, 3 nodes / 30 guests: first ${first}, then ${second}`);
    } finally {
      pve.api.route('/api2/json/cluster/status', JSON.parse(readFixture('proxmox', 'cluster-status-4-nodes-quorate.json')));
      pve.api.route('/api2/json/cluster/resources', JSON.parse(readFixture('proxmox', 'cluster-resources-4-nodes-qemu-storage.json')));
    }
  });

  test("a guest's backup state is its newest run on any node: a failure on its old node does not outlive a good run after migration", async () => {
    const now = Math.floor(Date.now() / 1000);
    // the real OK vzdump task as the shape: 107 failed on node1 yesterday (the real failed log), then ran fine on node2 today
    const failed = { ...vzdumpTask(), node: 'node1', id: '107', status: 'job errors', upid: 'UPID:node1:0020C066:042DF204:69C26EB1:vzdump:107:root@pam:', starttime: now - 86_400 - 300, endtime: now - 86_400 };
    const ok = { ...vzdumpTask(), node: 'node2', id: '107', status: 'OK', upid: 'UPID:node2:0020C067:042DF205:69C26EB2:vzdump:107:root@pam:', starttime: now - 600, endtime: now - 300 };
    pve.api.route('/api2/json/nodes/node1/tasks', (_q, url) => ({ data: url.searchParams.get('typefilter') === 'vzdump' ? [failed] : [] }));
    pve.api.route('/api2/json/nodes/node2/tasks', (_q, url) => ({ data: url.searchParams.get('typefilter') === 'vzdump' ? [ok] : [] }));
    pve.set(`/nodes/node1/tasks/${failed.upid}/log`, taskLog('task-log-vzdump-lxc-107-permission-denied.txt'));
    try {
      const obs = (await proxmoxCollector({ reader: reader(pve) }).collect(AbortSignal.timeout(20_000))).filter((o) => o.subject === 'backup:107');
      assert.equal(obs.length, 1, 'one observation per guest, not one per node');
      assert.equal(obs[0]!.host, 'node2');
      assert.equal(obs[0]!.values.last_status, 'ok');
    } finally {
      pve.set('/nodes/node1/tasks', []);
      pve.set('/nodes/node2/tasks', []);
    }
  });
});

async function startPveClusterExpectingBadToken(): Promise<PveCluster> {
  const { startLabApi } = await import('../../helpers/lab-api.ts');
  const api = await startLabApi({ authorization: `PVEAPIToken=${PVE_TOKEN_ID}=${PVE_SECRET}`, expectUnauthorized: true });
  return { api, yaml: () => '', offline: () => undefined, set: () => undefined, close: () => api.close() };
}
