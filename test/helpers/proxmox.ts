/**
 * A Proxmox VE cluster on loopback for tests: the lab API stand-in (lab-api.ts: real HTTPS, token
 * checked, any write fails the test) answering with the real captures in shared/fixtures/proxmox
 * and test/fixtures/proxmox — the 4-node cluster go-proxmox recorded (node1…node4) — and, for the
 * endpoints nobody has published, the labelled stand-ins in test/fixtures-derived/proxmox.
 * Scenarios change one thing of a real answer (a node's `online`, a storage's `used`) and say so.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFixture } from './fixtures.ts';
import { startLabApi, testCertificate, type LabApi } from './lab-api.ts';

export const PVE_TOKEN_ID = 'labwatch@pve!monitor';
export const PVE_SECRET = '3f9a1c2e-7b4d-4e8f-9a6b-0c1d2e3f4a5b';
export const NODES = ['node1', 'node2', 'node3', 'node4'];

const SYNTHETIC = fileURLToPath(new URL('../fixtures-derived/proxmox/', import.meta.url));
/** A stand-in written from the API schema (see that folder's SOURCES.md), as the value of `data`. */
export function standIn(name: string): unknown {
  return JSON.parse(readFileSync(SYNTHETIC + name, 'utf8'));
}
const real = (name: string): { data: unknown } => JSON.parse(readFixture('proxmox', name));
const realData = (name: string): unknown => JSON.parse(readFixture('proxmox', name));
/** pve-storage's disk-list test expectations are keyed by device; the API answers their values, sorted by key. */
const diskList = (name: string) => {
  const byDev = realData(name) as Record<string, Record<string, unknown>>;
  return Object.keys(byDev).sort().map((k) => byDev[k]!);
};

export interface PveCluster {
  api: LabApi;
  /** the proxmox: block of a labwatch config for it (secret from a file the caller names) */
  yaml(secretFile: string): string;
  /** the real /cluster/status with these nodes' `online` set to 0 */
  offline(...nodes: string[]): void;
  /** answer `data` for an endpoint under /api2/json */
  set(endpoint: string, data: unknown): void;
  close(): Promise<void>;
}

export async function startPveCluster(): Promise<PveCluster> {
  const api = await startLabApi({ authorization: `PVEAPIToken=${PVE_TOKEN_ID}=${PVE_SECRET}` });
  const set = (endpoint: string, data: unknown) => api.route(`/api2/json${endpoint}`, { data });
  api.route('/api2/json/cluster/status', real('cluster-status-4-nodes-quorate.json'));
  api.route('/api2/json/cluster/resources', real('cluster-resources-4-nodes-qemu-storage.json'));
  set('/cluster/ha/status/current', standIn('ha-status-current-healthy.data.json'));
  // no /version capture: the version the real node status reports (pve-manager/7.4-16/0f39f621)
  set('/version', { version: '7.4-16', release: '7.4', repoid: '0f39f621' });
  const config = { ...(standIn('qemu-config-onboot.data.json') as Record<string, unknown>) };
  delete config.onboot; // PVE leaves onboot out when it is not set
  for (const node of NODES) {
    api.route(`/api2/json/nodes/${node}/status`, real('node-status-pve7.4.json'));
    api.route(`/api2/json/nodes/${node}/network`, real('node-network-bridge-mtu-string-vlan.json'));
    set(`/nodes/${node}/storage`, standIn('storage-local-zfs-nfs.data.json'));
    set(`/nodes/${node}/disks/zfs`, []);
    set(`/nodes/${node}/disks/list`, []);
    set(`/nodes/${node}/tasks`, []);
    for (const vmid of [100, 101, 102, 200]) set(`/nodes/${node}/qemu/${vmid}/config`, config);
  }
  set('/nodes/node1/disks/zfs', standIn('zfs-list-one-pool.data.json'));
  api.route('/api2/json/nodes/node1/disks/zfs/samsung-970-01', real('disks-zfs-detail-online-upgrade-available.json'));
  set('/nodes/node1/disks/list', diskList('disks-list-nvme.internal-hash.json'));
  set('/nodes/node1/disks/smart', realData('disks-smart-nvme-text.data.json'));
  // node1's task list: the real failed `srvreload` of PVE 6.4 (long past) and the real OK vzdump
  api.route('/api2/json/nodes/node1/tasks', (_req, url) => ({ data: url.searchParams.get('typefilter') === 'vzdump' ? realData('node-tasks-vzdump-ok.data.json') : realData('node-tasks-failed-srvreload-pve6.4.data.json') }));
  return {
    api,
    yaml: (secretFile) =>
      `proxmox:\n  url: ${api.url}\n  token_id: "${PVE_TOKEN_ID}"\n  token_secret_file: ${secretFile}\n  tls_fingerprint: "${testCertificate().fingerprint}"\n  timeout: 2s\n`,
    offline: (...nodes) => {
      const body = real('cluster-status-4-nodes-quorate.json') as { data: Record<string, unknown>[] };
      for (const e of body.data) if (e.type === 'node' && nodes.includes(e.name as string)) e.online = 0;
      api.route('/api2/json/cluster/status', body);
    },
    set,
    close: () => api.close(),
  };
}

/** pve-storage's HDD disk list with its neutralised serials ("00000000") replaced by distinct ones, so two drives are two subjects. */
export function hddDiskList(serials: [string, string]): Record<string, unknown>[] {
  return diskList('disks-list-hdd-rpm.internal-hash.json').map((d, i) => ({ ...d, serial: serials[i] }));
}

/** A real task log (one line per entry) as /nodes/{node}/tasks/{upid}/log answers it. */
export function taskLog(name: string): { n: number; t: string }[] {
  return readFixture('proxmox', name)
    .split('\n')
    .filter((l) => l !== '')
    .map((t, i) => ({ n: i + 1, t }));
}

/** The real failing-now SMART answer (ST4000NM0033). */
export const failingSmart = () => realData('disks-smart-ata-hdd-attribute-failing-now.data.json');
/** The real OK vzdump task (home-assistant's capture), as the shape a scenario changes. */
export const vzdumpTask = () => (realData('node-tasks-vzdump-ok.data.json') as Record<string, unknown>[])[0]!;
