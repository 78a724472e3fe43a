/**
 * The one reader of a TrueNAS SCALE NAS, shared by the collector, the tools and the probe. It may
 * send only the methods in TRUENAS_METHODS (a contract test checks each against the real 25.04
 * `core.get_methods`: every one is allowed to READONLY_ADMIN), learns at connect time which of
 * them this release has (SMART self-tests left the API in 25.10), and checks every answer against
 * the shape labwatch relies on. Shapes: the `returns` schemas of core-get-methods-25.04.json.
 */
import * as z from 'zod';
import { ms } from '../../config/parts.ts';
import { looseNumber as num } from '../api-client.ts';
import { trustingAgent } from '../api-tls.ts';
import { issueMessage, issuePath } from '../../util/zod.ts';
import type { TruenasConfig } from './config.ts';
import { TrueNasRpc, RpcError } from './rpc.ts';
import { tnPool } from './pools.ts';

/** Every method labwatch may send to a NAS: login, discovery, and reads READONLY_ADMIN may call. */
export const TRUENAS_METHODS = [
  'auth.login_ex',
  'auth.login_with_api_key',
  'core.get_methods',
  'system.info',
  'pool.query',
  'disk.query',
  'disk.temperatures',
  'smart.test.results',
  'alert.list',
  'replication.query',
  'cloudsync.query',
  'pool.snapshottask.query',
  'app.query',
  'interface.query',
] as const;
export type TrueNasMethod = (typeof TRUENAS_METHODS)[number];

const text = z.string().nullish().transform((v) => v ?? '');
const when = z.string().nullish(); // a decoded {"$date": ms}

const info = z.looseObject({ version: z.string(), hostname: z.string(), uptime_seconds: num.nullish(), model: z.string().nullish() });

const disk = z.looseObject({
  identifier: text,
  name: z.string(),
  devname: z.string().nullish(),
  serial: text,
  model: text,
  type: text,
  size: num.nullish(),
  rotationrate: num.nullish(),
  zfs_guid: z.string().nullish(),
  bus: text,
});

const alert = z.looseObject({
  uuid: z.string(),
  klass: z.string(),
  level: z.string(),
  args: z.unknown(),
  node: text,
  key: text,
  formatted: z.string().nullish(),
  text: text,
  datetime: when,
  last_occurrence: when,
  dismissed: z.boolean().default(false),
});

const taskState = z.looseObject({ state: text, error: text, datetime: when }).nullish();
const job = z.looseObject({ state: text, error: text, time_finished: when }).nullish();

const replication = z.looseObject({ id: num, name: z.string(), enabled: z.boolean().default(true), state: taskState, job: job });
const cloudsync = z.looseObject({ id: num, description: text, enabled: z.boolean().default(true), job: job, path: text, direction: text });
const snapshotTask = z.looseObject({ id: num, dataset: z.string(), enabled: z.boolean().default(true), naming_schema: text, state: taskState });
const app = z.looseObject({ name: z.string(), state: z.string(), version: text, human_version: text, upgrade_available: z.boolean().nullish() });

const alias = z.looseObject({ type: text, address: z.string(), netmask: z.union([z.string(), z.number()]).nullish() });
const iface = z.looseObject({
  name: z.string(),
  type: text,
  description: text,
  mtu: num.nullish(),
  vlan_parent_interface: z.string().nullish(),
  vlan_tag: num.nullish(),
  aliases: z.array(alias).default([]),
  state: z.looseObject({ link_state: text, mtu: num.nullish(), aliases: z.array(z.unknown()).nullish() }).nullish(),
});

const smartTest = z.looseObject({ num: num.nullish(), description: text, status: text, status_verbose: text, lifetime: num.nullish(), lba_of_first_error: num.nullish() });
const smartResult = z.looseObject({ disk: z.string(), tests: z.array(smartTest).default([]) });

export type TnInfo = z.infer<typeof info>;
export type TnDisk = z.infer<typeof disk>;
export type TnAlert = z.infer<typeof alert>;
export type TnReplication = z.infer<typeof replication>;
export type TnCloudSync = z.infer<typeof cloudsync>;
export type TnSnapshotTask = z.infer<typeof snapshotTask>;
export type TnApp = z.infer<typeof app>;
export type TnIface = z.infer<typeof iface>;
export type TnSmartResult = z.infer<typeof smartResult>;

export class TrueNasReader {
  readonly rpc: TrueNasRpc;
  /** what `core.get_methods` listed on the current connection, with the options each accepts */
  #methods: { generation: number; list: Map<string, unknown[]> } | undefined;

  constructor(rpc: TrueNasRpc) {
    this.rpc = rpc;
  }

  static of(cfg: TruenasConfig, apiKey: string, onCall?: (method: string) => void): TrueNasReader {
    return new TrueNasReader(
      new TrueNasRpc({
        url: cfg.url,
        username: cfg.username,
        apiKey,
        agent: trustingAgent(cfg, 'truenas'),
        timeoutMs: ms(cfg.timeout),
        keySource: cfg.api_key_file ? `truenas.api_key_file ${cfg.api_key_file}` : 'LABWATCH_TRUENAS_API_KEY',
        ...(onCall ? { onCall } : {}),
      }),
    );
  }

  async #call<T>(schema: z.ZodType<T>, method: TrueNasMethod, params: unknown[], signal?: AbortSignal): Promise<T> {
    const answer = await this.rpc.call(method, params, signal);
    const r = schema.safeParse(answer);
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    throw new RpcError('bad_response', `TrueNAS ${method} answered in a shape labwatch does not know (${issuePath(issue.path) || 'the answer'}: ${issueMessage(issue)}); please report it with the TrueNAS version`, method);
  }

  /** The methods this release has (read once per connection: a reconnect may follow an upgrade). */
  async methods(signal?: AbortSignal): Promise<Map<string, unknown[]>> {
    if (this.#methods && this.#methods.generation === this.rpc.generation) return this.#methods.list;
    const all = await this.#call(z.record(z.string(), z.looseObject({ accepts: z.array(z.unknown()).nullish() })), 'core.get_methods', [], signal);
    const list = new Map(Object.entries(all).map(([k, v]) => [k, v.accepts ?? []]));
    this.#methods = { generation: this.rpc.generation, list };
    return list;
  }

  /** Whether this release has `method`; undefined is answered for one it lacks (the part is skipped). */
  async #ifListed<T>(method: TrueNasMethod, read: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    return (await this.methods(signal)).has(method) ? read() : undefined;
  }

  /** Opens the connection when needed (login, method list) and reads the NAS's name and version. */
  async info(signal?: AbortSignal): Promise<TnInfo> {
    const answer = await this.#call(info, 'system.info', [], signal);
    await this.methods(signal);
    return answer;
  }

  pools(signal?: AbortSignal) {
    return this.#call(z.array(tnPool), 'pool.query', [], signal);
  }
  disks(signal?: AbortSignal) {
    return this.#call(z.array(disk), 'disk.query', [], signal);
  }
  /** °C by disk name; a disk asleep is not woken where this release accepts `powermode` (cached 5 min by the NAS). */
  async temperatures(names: string[], signal?: AbortSignal): Promise<Record<string, number | null>> {
    const accepts = (await this.methods(signal)).get('disk.temperatures') ?? [];
    const options = JSON.stringify(accepts[1] ?? {}).includes('"powermode"') ? [{ powermode: 'STANDBY' }] : [];
    return this.#call(z.record(z.string(), num.nullable()), 'disk.temperatures', [names, ...options], signal);
  }
  /** Self-test logs per disk; undefined on a release without SMART in the API (25.10 and later). */
  smartResults(signal?: AbortSignal) {
    return this.#ifListed('smart.test.results', () => this.#call(z.array(smartResult), 'smart.test.results', [], signal), signal);
  }
  alerts(signal?: AbortSignal) {
    return this.#call(z.array(alert), 'alert.list', [], signal);
  }
  replications(signal?: AbortSignal) {
    return this.#ifListed('replication.query', () => this.#call(z.array(replication), 'replication.query', [], signal), signal);
  }
  cloudSyncs(signal?: AbortSignal) {
    return this.#ifListed('cloudsync.query', () => this.#call(z.array(cloudsync), 'cloudsync.query', [], signal), signal);
  }
  snapshotTasks(signal?: AbortSignal) {
    return this.#ifListed('pool.snapshottask.query', () => this.#call(z.array(snapshotTask), 'pool.snapshottask.query', [], signal), signal);
  }
  apps(signal?: AbortSignal) {
    return this.#ifListed('app.query', () => this.#call(z.array(app), 'app.query', [], signal), signal);
  }
  interfaces(signal?: AbortSignal) {
    return this.#call(z.array(iface), 'interface.query', [], signal);
  }
}

/** The connection is gone or the NAS does not answer: stop this poll and report it once. */
export const nasDown = (e: unknown) => e instanceof RpcError && ['unreachable', 'tls', 'auth', 'timeout', 'dropped'].includes(e.kind);
