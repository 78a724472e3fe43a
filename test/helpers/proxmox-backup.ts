/**
 * A Proxmox Backup Server on loopback (test/helpers/lab-api.ts) answering with the schema-derived
 * stand-ins in test/fixtures-derived/proxmox_backup — no real capture of these endpoints exists
 * (see that folder's SOURCES.md). Scenarios change one thing of a stand-in and say so. The
 * stand-ins' times are around NOW (2026-12-01T10:00:00Z), the clock the tests give the collector.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startLabApi, testCertificate, type LabApi } from './lab-api.ts';

const SYNTHETIC = fileURLToPath(new URL('../fixtures-derived/proxmox_backup/', import.meta.url));
/** A stand-in written from pbs-api-types (see SOURCES.md), as the value of `data`. */
export function pbsStandIn<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(SYNTHETIC + name, 'utf8')) as T;
}

export const NOW = Date.parse('2026-12-01T10:00:00Z');
export const PBS_TOKEN_ID = 'labwatch@pbs!monitor';
export const PBS_SECRET = '0b6b4c1e-3f0d-4f8a-9a57-2c1d6e8f9a10';

type Row = Record<string, unknown>;

export interface PbsStandIn {
  api: LabApi;
  /** answer an endpoint (under /api2/json) with this `data` */
  set(endpoint: string, data: unknown): void;
  /** the task list the server answers from (scenarios push to it) */
  tasks: Row[];
  /** the config block for this server, pinned to the test certificate */
  block(extra?: Row): Row;
  close(): Promise<void>;
}

export async function startPbs(): Promise<PbsStandIn> {
  const api = await startLabApi({ authorization: `PBSAPIToken=${PBS_TOKEN_ID}:${PBS_SECRET}` });
  const set = (endpoint: string, data: unknown) => api.route(`/api2/json${endpoint}`, { data });
  set('/version', pbsStandIn('version.data.json'));
  set('/status/datastore-usage', pbsStandIn('datastore-usage.data.json'));
  set('/admin/datastore', pbsStandIn('datastore-list.data.json'));
  for (const store of ['main', 'archive']) {
    set(`/admin/datastore/${store}/groups`, pbsStandIn(`groups-${store}.data.json`));
    const snapshots = pbsStandIn<Row[]>(`snapshots-${store}.data.json`);
    // PBS filters by backup-type and backup-id when both are given
    api.route(`/api2/json/admin/datastore/${store}/snapshots`, (_req, url) => {
      const type = url.searchParams.get('backup-type');
      const id = url.searchParams.get('backup-id');
      return { data: snapshots.filter((s) => (!type || s['backup-type'] === type) && (!id || s['backup-id'] === id)) };
    });
  }
  // PBS answers `since` and `errors`; the stand-in list is the healthy 48 h
  const tasks = pbsStandIn<Row[]>('tasks-healthy.data.json');
  api.route('/api2/json/nodes/localhost/tasks', (_req, url) => {
    const since = Number(url.searchParams.get('since') ?? 0);
    const errors = url.searchParams.get('errors') === '1';
    return { data: tasks.filter((t) => (t.starttime as number) >= since && (!errors || t.status !== 'OK')) };
  });
  return {
    api,
    set,
    tasks,
    block: (extra = {}) => ({ url: api.url, token_id: PBS_TOKEN_ID, tls_fingerprint: testCertificate().fingerprint, timeout: '5s', max_backup_age: '36h', ignore: ['archive/vm/300'], ...extra }),
    close: () => api.close(),
  };
}
