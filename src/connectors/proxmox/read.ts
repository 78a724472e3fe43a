/**
 * The one reader of a Proxmox VE cluster's API, shared by the collector, the tools and the probe.
 * GET only, every answer checked against the shape labwatch relies on (numbers may come as
 * strings), so a surprise is named with its endpoint instead of turning into a wrong verdict.
 * Shapes follow pve-docs' API schema and the real answers in shared/fixtures/proxmox.
 */
import * as z from 'zod';
import { ms } from '../../config/parts.ts';
import { ApiClient, ApiError, looseNumber as num, parseAnswer } from '../api-client.ts';
import { trustingAgent } from '../api-tls.ts';
import type { ProxmoxConfig } from './config.ts';
import { urlsOf } from './config.ts';
import { pveDisk, pveSmart } from './disks.ts';
import { pveZfsDetail, pveZfsListRow } from './pools.ts';

const flag = z.union([z.boolean(), num]).transform((v) => v === true || v === 1);
const text = z.string().nullish().transform((v) => v ?? '');

const clusterEntry = z.looseObject({
  type: z.string(),
  name: z.string(),
  quorate: flag.optional(),
  nodes: num.optional(),
  online: flag.optional(),
  ip: z.string().optional(),
});

const resource = z.looseObject({
  id: z.string(),
  type: z.string(),
  node: z.string().optional(),
  status: z.string().optional(),
  name: z.string().optional(),
  vmid: num.optional(),
  template: flag.optional(),
  hastate: z.string().optional(),
  storage: z.string().optional(),
  plugintype: z.string().optional(),
  shared: flag.optional(),
  content: z.string().optional(),
  tags: z.string().optional(),
  disk: num.optional(),
  maxdisk: num.optional(),
  mem: num.optional(),
  maxmem: num.optional(),
  cpu: num.optional(),
  uptime: num.optional(),
  lock: z.string().optional(),
});

const usage = z.looseObject({ total: num, used: num, free: num.optional(), avail: num.optional() });
const nodeStatus = z.looseObject({
  cpu: num,
  wait: num.optional(),
  loadavg: z.array(num).optional(),
  memory: usage,
  swap: usage.optional(),
  rootfs: usage.optional(),
  uptime: num.optional(),
  kversion: z.string().optional(),
  pveversion: z.string().optional(),
  cpuinfo: z.looseObject({ cpus: num.optional() }).optional(),
});

const storage = z.looseObject({
  storage: z.string(),
  type: z.string(),
  content: text,
  active: flag.optional(),
  enabled: flag.optional(),
  shared: flag.optional(),
  total: num.optional(),
  used: num.optional(),
  avail: num.optional(),
});

const task = z.looseObject({
  upid: z.string(),
  type: z.string(),
  id: text,
  user: z.string().optional(),
  node: z.string().optional(),
  status: z.string().optional(),
  starttime: num,
  endtime: num.optional(),
});

const logLine = z.looseObject({ n: num, t: z.string() });

const iface = z.looseObject({
  iface: z.string(),
  type: z.string(),
  active: flag.nullish(),
  autostart: flag.nullish(),
  mtu: num.optional(),
  'vlan-id': num.optional(),
  'vlan-raw-device': z.string().optional(),
  bridge_ports: z.string().optional(),
  bridge_vlan_aware: flag.optional(),
  comments: z.string().optional(),
});

const haEntry = z.looseObject({
  id: z.string(),
  type: z.string(),
  status: text,
  quorate: flag.optional(),
  node: z.string().optional(),
  sid: z.string().optional(),
  state: z.string().optional(),
  crm_state: z.string().optional(),
  request_state: z.string().optional(),
  timestamp: num.optional(),
});

const version = z.looseObject({ version: z.string(), release: z.string().optional(), repoid: z.string().optional() });

/**
 * A guest's config (qemu or lxc): every key is kept (disks, nics, … are read by iac/live.ts); the
 * few typed here are the ones read as values. memory is a number, a numeric string or, since PVE
 * 8.1, the property string `current=<MiB>`.
 */
const guestConfig = z.looseObject({
  onboot: flag.optional(),
  name: z.string().optional(),
  hostname: z.string().optional(),
  tags: z.string().optional(),
  memory: z.union([num, z.string()]).optional(),
  cores: num.optional(),
  sockets: num.optional(),
});

export type ClusterEntry = z.infer<typeof clusterEntry>;
export type Resource = z.infer<typeof resource>;
export type NodeStatus = z.infer<typeof nodeStatus>;
export type Storage = z.infer<typeof storage>;
export type Task = z.infer<typeof task>;
export type Iface = z.infer<typeof iface>;
export type HaEntry = z.infer<typeof haEntry>;

/** "labwatch@pve!monitor" + secret → the header Proxmox VE wants. */
function pveAuthorization(tokenId: string, secret: string): string {
  return `PVEAPIToken=${tokenId}=${secret}`;
}

/** Where Proxmox VE keeps the cluster's CA and shows a node's fingerprint, for TLS errors. */
const PVE_TRUST = { ca: 'Proxmox: /etc/pve/pve-root-ca.pem on any node', fingerprint: '`pvenode cert info` on the node' };

export class ProxmoxReader {
  readonly client: ApiClient;

  constructor(client: ApiClient) {
    this.client = client;
  }

  static of(cfg: Omit<ProxmoxConfig, 'iac'>, secret: string, onCall?: (endpoint: string) => void): ProxmoxReader {
    return new ProxmoxReader(
      new ApiClient({
        system: 'Proxmox VE',
        block: 'proxmox',
        urls: urlsOf(cfg),
        prefix: '/api2/json',
        authorization: pveAuthorization(cfg.token_id, secret),
        secret,
        agent: trustingAgent(cfg, 'proxmox', PVE_TRUST),
        timeoutMs: ms(cfg.timeout),
        hints: {
          auth: `check proxmox.token_id (${cfg.token_id}) and the token secret (proxmox.token_secret_file or LABWATCH_PROXMOX_TOKEN_SECRET); \`pveum user token list ${cfg.token_id.split('!')[0]}\` on a node lists the user's tokens`,
          forbidden: `give the token the PVEAuditor role on / (\`pveum acl modify / --tokens '${cfg.token_id}' --roles PVEAuditor\`; a privilege-separated token needs it for itself, not only its user)`,
        },
        ...(onCall ? { onCall } : {}),
      }),
    );
  }

  #get<T>(schema: z.ZodType<T>, endpoint: string, query?: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<T> {
    return this.client.get(endpoint, query, signal).then((v) => parseAnswer(schema, v, endpoint, 'Proxmox VE'));
  }

  version(signal?: AbortSignal) {
    return this.#get(version, '/version', {}, signal);
  }
  clusterStatus(signal?: AbortSignal) {
    return this.#get(z.array(clusterEntry), '/cluster/status', {}, signal);
  }
  haStatus(signal?: AbortSignal) {
    return this.#get(z.array(haEntry), '/cluster/ha/status/current', {}, signal);
  }
  /** Every node, guest and storage the token may see, in one call. */
  resources(signal?: AbortSignal) {
    return this.#get(z.array(resource), '/cluster/resources', {}, signal);
  }
  nodeStatus(node: string, signal?: AbortSignal) {
    return this.#get(nodeStatus, `/nodes/${enc(node)}/status`, {}, signal);
  }
  storage(node: string, signal?: AbortSignal) {
    return this.#get(z.array(storage), `/nodes/${enc(node)}/storage`, {}, signal);
  }
  /** The disk inventory without running smartctl (which would wake a sleeping disk). */
  disks(node: string, signal?: AbortSignal) {
    return this.#get(z.array(pveDisk), `/nodes/${enc(node)}/disks/list`, { skipsmart: 1 }, signal);
  }
  /** Proxmox runs `smartctl -H -A` without `-n standby`: this wakes a sleeping HDD. */
  smart(node: string, devpath: string, signal?: AbortSignal) {
    return this.#get(pveSmart, `/nodes/${enc(node)}/disks/smart`, { disk: devpath }, signal);
  }
  zfsPools(node: string, signal?: AbortSignal) {
    return this.#get(z.array(pveZfsListRow), `/nodes/${enc(node)}/disks/zfs`, {}, signal);
  }
  zfsPool(node: string, name: string, signal?: AbortSignal) {
    return this.#get(pveZfsDetail, `/nodes/${enc(node)}/disks/zfs/${enc(name)}`, {}, signal);
  }
  /** Tasks that started since `since` (unix seconds), newest first; `errors` keeps only failed ones. */
  tasks(node: string, opts: { since?: number; errors?: boolean; type?: string; vmid?: number; limit?: number } = {}, signal?: AbortSignal) {
    return this.#get(
      z.array(task),
      `/nodes/${enc(node)}/tasks`,
      { since: opts.since, errors: opts.errors ? 1 : undefined, typefilter: opts.type, vmid: opts.vmid, limit: opts.limit ?? 500 },
      signal,
    );
  }
  /** The last `lines` lines of a task's log. */
  async taskLog(node: string, upid: string, lines = 40, signal?: AbortSignal): Promise<string[]> {
    // the log is 0-based and paged: ask for a generous page and keep the tail
    const all = await this.#get(z.array(logLine), `/nodes/${enc(node)}/tasks/${enc(upid)}/log`, { start: 0, limit: 5000 }, signal);
    return all.slice(-lines).map((l) => l.t);
  }
  network(node: string, signal?: AbortSignal) {
    return this.#get(z.array(iface), `/nodes/${enc(node)}/network`, {}, signal);
  }
  guestConfig(node: string, kind: 'qemu' | 'lxc', vmid: number, signal?: AbortSignal) {
    return this.#get(guestConfig, `/nodes/${enc(node)}/${kind}/${vmid}/config`, {}, signal);
  }
}

/**
 * Errors that mean the node itself is not answering (stop reading it this poll): not a refused or
 * unknown endpoint (403, 501 on an older release), which only costs that endpoint.
 */
export const nodeDown = (e: unknown) =>
  e instanceof ApiError && (['unreachable', 'timeout', 'tls'].includes(e.kind) || (e.kind === 'http' && (e.status ?? 0) >= 500 && e.status !== 501));

function enc(s: string): string {
  return encodeURIComponent(s);
}
