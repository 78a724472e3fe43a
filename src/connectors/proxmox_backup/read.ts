/**
 * The one reader of a Proxmox Backup Server's API, shared by the collector, the tools and the
 * probe. GET only; every answer is checked against the shape labwatch relies on, so a surprise is
 * named with its endpoint instead of turning into a wrong verdict. Shapes follow pbs-api-types
 * (proxmox-rs): DataStoreStatusListItem, DataStoreListItem, GroupListItem, SnapshotListItem,
 * TaskListItem; no real capture of these answers has been published.
 */
import * as z from 'zod';
import { ms } from '../../config/parts.ts';
import { ApiClient, looseNumber as num, parseAnswer } from '../api-client.ts';
import { trustingAgent } from '../api-tls.ts';
import type { PbsConfig } from './config.ts';

const SYSTEM = 'Proxmox Backup Server';

const version = z.looseObject({ version: z.string(), release: z.string().optional(), repoid: z.string().optional() });

const gcStatus = z.looseObject({
  upid: z.string().nullish(),
  'removed-bytes': num.optional(),
  'pending-bytes': num.optional(),
  'disk-bytes': num.optional(),
  'index-data-bytes': num.optional(),
  'still-bad': num.optional(),
});

const datastoreUsage = z.looseObject({
  store: z.string(),
  total: num.nullish(),
  used: num.nullish(),
  avail: num.nullish(),
  history: z.array(num.nullable()).nullish(),
  'history-start': num.nullish(),
  'history-delta': num.nullish(),
  /** unix seconds; in the past when usage does not grow */
  'estimated-full-date': num.nullish(),
  error: z.string().nullish(),
  'gc-status': gcStatus.nullish(),
  'mount-status': z.string().nullish(),
});

const datastore = z.looseObject({ store: z.string(), comment: z.string().nullish(), maintenance: z.string().nullish() });

const group = z.looseObject({
  'backup-type': z.string(),
  'backup-id': z.string(),
  'last-backup': num,
  'backup-count': num,
  files: z.array(z.string()).optional(),
  owner: z.string().nullish(),
  comment: z.string().nullish(),
});

const snapshot = z.looseObject({
  'backup-type': z.string(),
  'backup-id': z.string(),
  'backup-time': num,
  comment: z.string().nullish(),
  verification: z.looseObject({ upid: z.string().optional(), state: z.string() }).nullish(),
  size: num.nullish(),
  protected: z.boolean().optional(),
});

const task = z.looseObject({
  upid: z.string(),
  node: z.string().optional(),
  starttime: num,
  worker_type: z.string(),
  worker_id: z.string().nullish(),
  user: z.string().optional(),
  endtime: num.nullish(),
  status: z.string().nullish(),
});

const logLine = z.looseObject({ n: num, t: z.string() });

export type DatastoreUsage = z.infer<typeof datastoreUsage>;
export type Datastore = z.infer<typeof datastore>;
export type Group = z.infer<typeof group>;
export type Snapshot = z.infer<typeof snapshot>;
export type PbsTask = z.infer<typeof task>;

/** "labwatch@pbs!monitor" + secret → the header PBS wants (a colon, where Proxmox VE has "="). */
function pbsAuthorization(tokenId: string, secret: string): string {
  return `PBSAPIToken=${tokenId}:${secret}`;
}

/** What to tell a person whose token is refused: PBS intersects a token's ACL with its user's. */
export function auditHint(tokenId: string): string {
  const user = tokenId.split('!')[0];
  return `give the token and its user the Audit role on / (\`proxmox-backup-manager acl update / Audit --auth-id '${tokenId}'\` and \`proxmox-backup-manager acl update / Audit --auth-id ${user}\`: a token never has more than its user)`;
}

export class PbsReader {
  readonly client: ApiClient;

  constructor(client: ApiClient) {
    this.client = client;
  }

  static of(cfg: PbsConfig, secret: string, onCall?: (endpoint: string) => void): PbsReader {
    return new PbsReader(
      new ApiClient({
        system: SYSTEM,
        block: 'proxmox_backup',
        urls: [cfg.url],
        prefix: '/api2/json',
        authorization: pbsAuthorization(cfg.token_id, secret),
        secret,
        // PBS shows its fingerprint on the Dashboard (Show Fingerprint) and with proxmox-backup-manager
        agent: trustingAgent(cfg, 'proxmox_backup', { fingerprint: '`proxmox-backup-manager cert info` on the server (or Dashboard → Show Fingerprint)' }),
        timeoutMs: ms(cfg.timeout),
        hints: {
          auth: `check proxmox_backup.token_id (${cfg.token_id}) and the token secret (proxmox_backup.token_secret_file or LABWATCH_PBS_TOKEN_SECRET); \`proxmox-backup-manager user list-tokens ${cfg.token_id.split('!')[0]}\` on the server lists the user's tokens`,
          forbidden: auditHint(cfg.token_id),
        },
        ...(onCall ? { onCall } : {}),
      }),
    );
  }

  #get<T>(schema: z.ZodType<T>, endpoint: string, query?: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<T> {
    return this.client.get(endpoint, query, signal).then((v) => parseAnswer(schema, v, endpoint, SYSTEM));
  }

  version(signal?: AbortSignal) {
    return this.#get(version, '/version', {}, signal);
  }
  /** Every datastore's size, PBS's own estimate of when it is full, and its last GC, in one call. */
  usage(signal?: AbortSignal) {
    return this.#get(z.array(datastoreUsage), '/status/datastore-usage', {}, signal);
  }
  /** Datastores with their comment and maintenance mode. */
  datastores(signal?: AbortSignal) {
    return this.#get(z.array(datastore), '/admin/datastore', {}, signal);
  }
  /** The backup groups of a datastore's root namespace, each with its newest backup time. */
  groups(store: string, signal?: AbortSignal) {
    return this.#get(z.array(group), `/admin/datastore/${enc(store)}/groups`, {}, signal);
  }
  /** Snapshots of a datastore, or of one group when type and id are given. */
  snapshots(store: string, only?: { type: string; id: string }, signal?: AbortSignal) {
    return this.#get(z.array(snapshot), `/admin/datastore/${enc(store)}/snapshots`, only ? { 'backup-type': only.type, 'backup-id': only.id } : {}, signal);
  }
  /** Tasks that started since `since` (unix seconds), newest first; `errors` keeps only failed ones. */
  tasks(opts: { since?: number; errors?: boolean; limit?: number } = {}, signal?: AbortSignal) {
    return this.#get(z.array(task), '/nodes/localhost/tasks', { since: opts.since, errors: opts.errors ? 1 : undefined, limit: opts.limit ?? 5000 }, signal);
  }
  /** A task's log lines (the first 20 000: a verify log of a large datastore is long). */
  async taskLog(upid: string, signal?: AbortSignal): Promise<string[]> {
    const all = await this.#get(z.array(logLine), `/nodes/localhost/tasks/${enc(upid)}/log`, { start: 0, limit: 20_000 }, signal);
    return all.map((l) => l.t);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
