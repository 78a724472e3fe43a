/**
 * The lab-API answers under fuzz: Proxmox VE, Proxmox Backup Server, TrueNAS SCALE and OPNsense.
 * Each target is one endpoint (or JSON-RPC method) as its collector reads it: the answer's text
 * goes through what the real client does with a 2xx body (JSON, then PVE/PBS's `{"data": …}`
 * envelope; TrueNAS: the JSON-RPC frame and its `{"$date": ms}` decoding), the reader's schema,
 * and the function the collector hands the value to next (observations, drive and pool readings).
 * Inputs are the captures the connector tests use (shared and own fixtures, and the labelled
 * stand-ins in test/fixtures-derived), damaged by test/fuzz/mutate.ts. No HTTP or WebSocket: the
 * socket adds nothing to what a body can do to a parser, and 100,000 inputs must run in seconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient, ApiError } from '../../src/connectors/api-client.ts';
import { ProxmoxReader } from '../../src/connectors/proxmox/read.ts';
import { nodeValues } from '../../src/connectors/proxmox/node.ts';
import { storageObservations } from '../../src/connectors/proxmox/storage.ts';
import { interfaceObservations as pveInterfaces } from '../../src/connectors/proxmox/network.ts';
import { driveFromPve, pveDisk } from '../../src/connectors/proxmox/disks.ts';
import { poolFromPve } from '../../src/connectors/proxmox/pools.ts';
import { poolObservations } from '../../src/connectors/zfs/collect.ts';
import { PbsReader } from '../../src/connectors/proxmox_backup/read.ts';
import { jobOf, lastGcByStore, storeOf } from '../../src/connectors/proxmox_backup/tasks.ts';
import { OpnsenseReader } from '../../src/connectors/opnsense/read.ts';
import { interfaceObservations as opnInterfaces } from '../../src/connectors/opnsense/interfaces.ts';
import { filesystemObservations, gatewayObservation, noticeObservations, systemObservation } from '../../src/connectors/opnsense/system.ts';
import { decodeDates, RpcError, type TrueNasRpc } from '../../src/connectors/truenas/rpc.ts';
import { TRUENAS_METHODS, TrueNasReader, type TnDisk } from '../../src/connectors/truenas/read.ts';
import { poolFromTrueNas } from '../../src/connectors/truenas/pools.ts';
import { driveObservations, membership } from '../../src/connectors/truenas/disks.ts';
import { alertObservations } from '../../src/connectors/truenas/alerts.ts';
import { appObservations, taskObservations, taskRows } from '../../src/connectors/truenas/tasks.ts';
import { interfaceObservations as tnInterfaces } from '../../src/connectors/truenas/network.ts';
import { OWN_FIXTURES, SHARED_FIXTURES } from '../helpers/fixtures.ts';
import { jsonInputs, type Json } from './mutate.ts';
import type { Target } from './oracle.ts';
import type { FuzzTarget } from './targets.ts';

const DERIVED = fileURLToPath(new URL('../fixtures-derived/', import.meta.url));
const NOW = new Date('2026-12-01T10:00:00Z');
const AT = NOW.toISOString();

/**
 * An Error of exactly the class `Error` (what poolFromPve throws for a shape it does not know):
 * `instanceof Error` would also let a TypeError from inside pass as a clear error.
 */
const PlainError = class {
  static [Symbol.hasInstance](e: unknown): boolean {
    return e instanceof Error && e.constructor === Error;
  }
} as unknown as Target['errors'][number];

/** The parsed captures in `folder` whose names match, from the shared, own and derived fixtures. */
function load(folder: string, match: RegExp): Json[] {
  const out: Json[] = [];
  for (const root of [SHARED_FIXTURES, OWN_FIXTURES, DERIVED]) {
    let names: string[] = [];
    try {
      names = readdirSync(join(root, folder));
    } catch {
      continue;
    }
    for (const n of names.sort()) if (match.test(n)) out.push(asAnswer(n, JSON.parse(readFileSync(join(root, folder, n), 'utf8')) as Json));
  }
  if (out.length === 0) throw new Error(`no ${match} capture in ${folder} (shared, own or derived fixtures)`);
  return out;
}

/** A capture as the endpoint's answer: `.data.json` is the value of `data`, `.item.json` one element, `.internal-hash.json` pve-storage's keyed form. */
function asAnswer(name: string, doc: Json): Json {
  if (name.endsWith('.internal-hash.json')) {
    const byDev = doc as Record<string, Json>;
    return Object.keys(byDev).sort().map((k) => byDev[k]!);
  }
  if (name.endsWith('.item.json')) return [doc];
  return doc;
}
/** PVE and PBS answer `{"data": …}`: the whole answer is what is damaged, envelope too. */
const enveloped = (docs: Json[]) => docs.map((d) => (d !== null && typeof d === 'object' && !Array.isArray(d) && 'data' in d ? d : { data: d }));

/** What ApiClient does with a 2xx body (api-client.ts, the 'end' handler): JSON, then the envelope. */
function answering(system: string, body: string, envelope: boolean): ApiClient {
  const get = async (endpoint: string): Promise<unknown> => {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ApiError('bad_response', `${system} ${endpoint} answered HTTP 200 with a body that is not JSON ("${body.slice(0, 120)}")`, endpoint, 200);
    }
    if (!envelope) return json;
    if (!json || typeof json !== 'object' || !('data' in json)) throw new ApiError('bad_response', `${system} ${endpoint} answered JSON without the {"data": …} envelope`, endpoint, 200);
    return (json as { data: unknown }).data;
  };
  return { get, baseUrl: 'https://lab.test' } as unknown as ApiClient;
}

function target(name: string, docs: Json[], errors: Target['errors'], run: (s: string) => unknown): FuzzTarget {
  return { name, inputs: jsonInputs(docs), samples: docs.map((d) => JSON.stringify(d)), baseline: 'JSON.parse', errors, run };
}

/** Proxmox VE: every endpoint the collectors read, and what they make of it. */
export function proxmoxTargets(): FuzzTarget[] {
  const pve = (s: string) => new ProxmoxReader(answering('Proxmox VE', s, true));
  const t = (name: string, match: RegExp, run: (r: ProxmoxReader) => Promise<unknown>) =>
    target(`PVE ${name}`, enveloped(load('proxmox', match)), [ApiError, PlainError], (s) => run(pve(s)));
  const disk = pveDisk.parse((load('proxmox', /^disks-list-ssd-wearout/)[0] as Json[])[0]);
  const poolRow = (load('proxmox', /^zfs-list-one-pool/)[0] as Json[])[0];
  return [
    t('/cluster/status', /^cluster-status-/, (r) => r.clusterStatus()),
    t('/cluster/resources', /^cluster-resources-/, (r) => r.resources()),
    t('/cluster/ha/status/current', /^ha-status-current-/, (r) => r.haStatus()),
    t('/nodes/{node}/status', /^node-status-/, async (r) => nodeValues('node1', await r.nodeStatus('node1'))),
    t('/nodes/{node}/storage', /^storage-/, async (r) => storageObservations(new Map([['node1', await r.storage('node1')]]), AT)),
    t('/nodes/{node}/disks/list', /^disks-list-/, async (r) => (await r.disks('node1')).map((d) => driveFromPve('node1', d, undefined))),
    t('/nodes/{node}/disks/smart', /^disks-smart-/, async (r) => driveFromPve('node1', disk, await r.smart('node1', disk.devpath))),
    t('/nodes/{node}/disks/zfs', /^zfs-list-/, (r) => r.zfsPools('node1')),
    t('/nodes/{node}/disks/zfs/{name}', /^disks-zfs-detail-/, async (r) => poolObservations(poolFromPve(await r.zfsPool('node1', 'tank'), poolRow), 'node1', NOW)),
    t('/nodes/{node}/tasks', /^node-tasks-/, (r) => r.tasks('node1')),
    t('/nodes/{node}/network', /^node-network-/, async (r) => pveInterfaces(new Map([['node1', await r.network('node1')]]), AT)),
    t('/nodes/{node}/{qemu,lxc}/{vmid}/config', /-config-/, (r) => r.guestConfig('node1', 'qemu', 100)),
  ];
}

/** Proxmox Backup Server. */
export function pbsTargets(): FuzzTarget[] {
  const t = (name: string, match: RegExp, run: (r: PbsReader) => Promise<unknown>) =>
    target(`PBS ${name}`, enveloped(load('proxmox_backup', match)), [ApiError], (s) => run(new PbsReader(answering('Proxmox Backup Server', s, true))));
  return [
    t('/version', /^version/, (r) => r.version()),
    t('/status/datastore-usage', /^datastore-usage/, (r) => r.usage()),
    t('/admin/datastore', /^datastore-list/, (r) => r.datastores()),
    t('/admin/datastore/{store}/groups', /^groups-/, (r) => r.groups('main')),
    t('/admin/datastore/{store}/snapshots', /^snapshots-/, (r) => r.snapshots('main')),
    t('/nodes/localhost/tasks', /^tasks-/, async (r) => {
      const tasks = await r.tasks();
      return { gc: [...lastGcByStore(tasks)], jobs: tasks.map((x) => [jobOf(x.worker_type), storeOf(x)]) };
    }),
    t('/nodes/localhost/tasks/{upid}/log', /^task-log-/, (r) => r.taskLog('UPID:pbs:1')),
  ];
}

/** OPNsense (no envelope: the answer is the value). */
export function opnsenseTargets(): FuzzTarget[] {
  const ifaces = load('opnsense', /^interfaces-overview-export-/);
  const real = { ifaces: ifaces[0]!, netstat: load('opnsense', /^interface-statistics/)[0]! };
  const ok = (doc: Json) => new OpnsenseReader(answering('OPNsense', JSON.stringify(doc), false));
  const t = (name: string, docs: Json[], run: (r: OpnsenseReader) => Promise<unknown>) =>
    target(`OPNsense ${name}`, docs, [ApiError], (s) => run(new OpnsenseReader(answering('OPNsense', s, false))));
  return [
    t('interfaces/overview/export', ifaces, async (r) => opnInterfaces(await r.interfaces(), await ok(real.netstat).netstat(), 'fw', AT)),
    t('get_interface_statistics', [real.netstat], async (r) => opnInterfaces(await ok(real.ifaces).interfaces(), await r.netstat(), 'fw', AT)),
    t('routes/gateway/status', load('opnsense', /^gateway-status/), async (r) => (await r.gateways()).items.map((g) => gatewayObservation(g, 'fw', AT))),
    t('system_resources', load('opnsense', /^system-resources/), async (r) => systemObservation((await r.resources()).memory, 'fw', AT)),
    t('system_disk', load('opnsense', /^system-disk/), async (r) => filesystemObservations(await r.disks(), 'fw', AT)),
    // the probe and the system tool read only the name and versions of it
    t('system_information', load('opnsense', /^system-information/), async (r) => {
      const { name, versions } = await r.information();
      return { name, versions };
    }),
    t('core/system/status', load('opnsense', /^system-status-/), async (r) => noticeObservations(await r.status(), 'fw', AT)),
  ];
}

/**
 * What TrueNasRpc's message handler does with a frame answering `method` (rpc.ts #receive): a frame
 * that is not JSON is ignored there, so the call ends in its timeout; a result is date-decoded.
 */
function decodeAnswer(frame: string, method: string): unknown {
  let msg: { result?: unknown };
  try {
    msg = JSON.parse(frame) as { result?: unknown };
  } catch {
    throw new RpcError('timeout', `TrueNAS ${method} did not answer within 1 s`, method);
  }
  return decodeDates(msg.result, method);
}

/** TrueNAS SCALE: each method's `result`, framed as the NAS sends it and decoded as rpc.ts does. */
export function truenasTargets(): FuzzTarget[] {
  // core.get_methods is 3.4 MB: the methods labwatch sends are the part it reads
  const allMethods = JSON.parse(readFileSync(join(SHARED_FIXTURES, 'truenas', 'core-get-methods-25.04.json'), 'utf8')) as Record<string, Json>;
  const methods: Record<string, Json> = Object.fromEntries(TRUENAS_METHODS.filter((m) => m in allMethods).map((m) => [m, allMethods[m]!]));
  const frame = (result: string) => `{"jsonrpc":"2.0","id":1,"result":${result}}`;
  const rpcAnswering = (answer: (method: string) => unknown) => ({ generation: 1, call: async (method: string) => answer(method) }) as unknown as TrueNasRpc;
  const realMethods = new Map(Object.entries(methods).map(([k, v]) => [k, ((v as { accepts?: unknown[] }).accepts ?? []) as unknown[]]));
  const reader = (s: string) => new TrueNasReader(rpcAnswering((m) => (m === 'core.get_methods' ? methods : decodeAnswer(frame(s), m))));
  const d = (name: string) => load('truenas', new RegExp(`^${name}`));
  const disks = d('disk-query')[0] as unknown as TnDisk[];
  const pools = d('pool-query-healthy')[0] as unknown as Parameters<typeof membership>[0];
  const { poolOf } = membership(pools, disks);
  const t = (name: string, docs: Json[], run: (r: TrueNasReader) => Promise<unknown>) => target(`TrueNAS ${name}`, docs, [RpcError], (s) => run(reader(s)));
  return [
    // the frame itself, decoded: what reaches every schema (an own `__proto__` must stay data)
    target('TrueNAS JSON-RPC answer', [...d('pool-query-'), ...d('system-info'), ...d('alert-list-')], [RpcError], (s) => decodeAnswer(frame(s), 'pool.query')),
    target('TrueNAS core.get_methods', [methods], [RpcError], (s) =>
      new TrueNasReader(rpcAnswering((m) => decodeAnswer(frame(s), m))).methods().then((m) => [...m.keys()].filter((k) => realMethods.has(k))),
    ),
    t('system.info', d('system-info'), (r) => r.info()),
    t('pool.query', d('pool-query-'), async (r) => {
      const p = await r.pools();
      return [p.flatMap((x) => poolObservations(poolFromTrueNas(x), 'nas', NOW)), [...membership(p, disks).poolOf]];
    }),
    t('disk.query', d('disk-query'), async (r) => {
      const ds = await r.disks();
      return driveObservations(ds, { sda: 34 }, undefined, membership(pools, ds).poolOf, 'nas', AT);
    }),
    t('disk.temperatures', d('disk-temperatures'), async (r) => driveObservations(disks, await r.temperatures(disks.map((x) => x.name)), undefined, poolOf, 'nas', AT)),
    t('smart.test.results', d('smart-test-results'), async (r) => driveObservations(disks, {}, await r.smartResults(), poolOf, 'nas', AT)),
    t('alert.list', d('alert-list-'), async (r) => alertObservations(await r.alerts(), disks, poolOf, new Set(), 'nas', AT)),
    t('replication.query', d('replication-query'), async (r) => taskObservations(taskRows(await r.replications(), [], []), 'nas', AT)),
    t('cloudsync.query', d('cloudsync-query'), async (r) => taskObservations(taskRows([], await r.cloudSyncs(), []), 'nas', AT)),
    t('pool.snapshottask.query', d('pool-snapshottask-query'), async (r) => taskObservations(taskRows([], [], await r.snapshotTasks()), 'nas', AT)),
    t('app.query', d('app-query'), async (r) => appObservations((await r.apps()) ?? [], 'nas', AT)),
    t('interface.query', d('interface-query'), async (r) => tnInterfaces(await r.interfaces(), 'nas', AT)),
  ];
}

/** Every lab-API target, for the tests and bench/fuzz.ts. */
export function labTargets(): FuzzTarget[] {
  return [...proxmoxTargets(), ...pbsTargets(), ...opnsenseTargets(), ...truenasTargets()];
}
