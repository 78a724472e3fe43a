/**
 * The one reader of an OPNsense firewall's API, shared by the collector, the tools and the probe.
 * GET only (labwatch never calls what changes the firewall, nor core/firmware/status, whose
 * privilege also allows upgrades and whose POST starts a remote check). Answers are bare JSON;
 * each is checked against the shape labwatch relies on. Shapes follow opnsense/core's API
 * controllers (Interfaces OverviewController, Diagnostics InterfaceController and
 * SystemController, Routes GatewayController, Core SystemController) and the real overview capture.
 */
import * as z from 'zod';
import { ms } from '../../config/parts.ts';
import { ApiClient, ApiError, parseAnswer } from '../api-client.ts';
import { trustingAgent } from '../api-tls.ts';
import type { OpnsenseConfig } from './config.ts';

const SYSTEM = 'OPNsense';

/** The GUI privilege (System → Access → Users/Groups → Privileges) each endpoint needs. */
const PRIVILEGES = {
  'interfaces/overview/export': 'Status: Interfaces',
  'diagnostics/interface/get_interface_statistics': 'Diagnostics: Netstat',
  'routes/gateway/status': 'System: Gateways',
  'diagnostics/system/system_information': 'Lobby: Dashboard',
  'diagnostics/system/system_resources': 'Lobby: Dashboard',
  'diagnostics/system/system_disk': 'Lobby: Dashboard',
  'core/system/status': 'System: Status',
} as const;
type Endpoint = keyof typeof PRIVILEGES;

/** PHP encodes an empty result as [] where a filled one is an object. */
const emptyAsObject = (v: unknown) => (Array.isArray(v) && v.length === 0 ? {} : v);
/** A list that PHP may send as an object keyed by name. */
const listOf = <T extends z.ZodType>(item: T) => z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v) : v), z.array(item));

const iface = z.looseObject({
  device: z.string(),
  status: z.string().optional(),
  mtu: z.unknown().optional(),
  flags: z.array(z.string()).optional(),
  is_physical: z.boolean().optional(),
  media: z.string().optional(),
  vlan: z.looseObject({ tag: z.unknown().optional(), parent: z.string().optional() }).optional(),
  vlan_tag: z.unknown().optional(),
  statistics: z.preprocess(emptyAsObject, z.record(z.string(), z.unknown())).optional(),
  identifier: z.string().optional(),
  description: z.string().optional(),
  enabled: z.boolean().optional(),
});

const netstatRow = z.looseObject({ name: z.string(), network: z.string().optional(), address: z.string().optional() });
const netstat = z.looseObject({ statistics: z.preprocess(emptyAsObject, z.record(z.string(), netstatRow)) });

const gateway = z.looseObject({
  name: z.string(),
  address: z.string().optional(),
  status: z.string(),
  status_translated: z.string().optional(),
  loss: z.string().optional(),
  delay: z.string().optional(),
  stddev: z.string().optional(),
  monitor: z.string().optional(),
});
const gateways = z.looseObject({ items: listOf(gateway), status: z.string().optional() });

const resources = z.preprocess(emptyAsObject, z.looseObject({ memory: z.looseObject({ total: z.unknown(), used: z.unknown(), arc: z.unknown().optional() }).optional() }));
const disk = z.preprocess(
  emptyAsObject,
  z.looseObject({ devices: z.array(z.looseObject({ device: z.string(), type: z.string().optional(), used_pct: z.unknown(), mountpoint: z.string() })).optional() }),
);
const information = z.looseObject({ name: z.string().optional(), versions: z.array(z.string()).optional() });
const status = z.record(z.string(), z.unknown());

export type Iface = z.infer<typeof iface>;
export type NetstatRow = z.infer<typeof netstatRow>;
export type Gateway = z.infer<typeof gateway>;
export type DiskDevice = NonNullable<z.infer<typeof disk>['devices']>[number];

const authHint =
  'check the API key and secret (opnsense.key_file or LABWATCH_OPNSENSE_KEY, opnsense.secret_file or LABWATCH_OPNSENSE_SECRET): they are the key= and secret= lines of the file OPNsense offered once when the key was made under System → Access → Users → the user → API keys; a lost secret cannot be shown again, make a new key';

/** "get_interface_statistics" → "getInterfaceStatistics": the action names below 25.7. */
const camel = (endpoint: string) => endpoint.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

export class OpnsenseReader {
  readonly client: ApiClient;
  /** endpoints this firewall only knows in camelCase (older than 25.7) */
  readonly #camel = new Set<string>();

  constructor(client: ApiClient) {
    this.client = client;
  }

  static of(cfg: OpnsenseConfig, key: string, secret: string, onCall?: (endpoint: string) => void): OpnsenseReader {
    return new OpnsenseReader(
      new ApiClient({
        system: SYSTEM,
        block: 'opnsense',
        urls: [cfg.url],
        prefix: '/api',
        authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`,
        secret,
        agent: trustingAgent(cfg, 'opnsense'),
        timeoutMs: ms(cfg.timeout),
        envelope: 'none',
        hints: { auth: authHint, forbidden: 'the API user lacks the privilege for it' },
        ...(onCall ? { onCall } : {}),
      }),
    );
  }

  async #get<T>(schema: z.ZodType<T>, endpoint: Endpoint, signal?: AbortSignal): Promise<T> {
    const path = this.#camel.has(endpoint) ? camel(endpoint) : endpoint;
    try {
      return parseAnswer(schema, await this.client.get(`/${path}`, {}, signal), `/${path}`, SYSTEM);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      // below 25.7 the actions are camelCase; try once and remember
      if (e.status === 404 && path !== camel(endpoint) && !this.#camel.has(endpoint)) {
        this.#camel.add(endpoint);
        return this.#get(schema, endpoint, signal);
      }
      if (e.kind === 'forbidden') {
        const privilege = PRIVILEGES[endpoint];
        throw new ApiError('forbidden', `OPNsense ${this.client.baseUrl}/api/${path} is refused to this API key (HTTP 403): add the privilege "${privilege}" to its user (System → Access → Users → edit the user → Privileges, or to its group)`, e.endpoint, 403, privilege);
      }
      throw e;
    }
  }

  /** Every interface with its ifconfig state and netstat counters (strings). */
  async interfaces(signal?: AbortSignal): Promise<Iface[]> {
    return this.#get(listOf(iface), 'interfaces/overview/export', signal);
  }
  /** netstat -i per interface and address; the <Link#n> row carries the NIC's totals. */
  async netstat(signal?: AbortSignal): Promise<NetstatRow[]> {
    return Object.values((await this.#get(netstat, 'diagnostics/interface/get_interface_statistics', signal)).statistics);
  }
  /** dpinger's view of every gateway. */
  gateways(signal?: AbortSignal) {
    return this.#get(gateways, 'routes/gateway/status', signal);
  }
  resources(signal?: AbortSignal) {
    return this.#get(resources, 'diagnostics/system/system_resources', signal);
  }
  async disks(signal?: AbortSignal): Promise<DiskDevice[]> {
    return (await this.#get(disk, 'diagnostics/system/system_disk', signal)).devices ?? [];
  }
  /** Host name and versions ("OPNsense 25.7.3-amd64", "FreeBSD 14.3-RELEASE-p2", OpenSSL). */
  information(signal?: AbortSignal) {
    return this.#get(information, 'diagnostics/system/system_information', signal);
  }
  /** The system's own notices, by subsystem (only those whose log page the user may open). */
  status(signal?: AbortSignal) {
    return this.#get(status, 'core/system/status', signal);
  }
}
