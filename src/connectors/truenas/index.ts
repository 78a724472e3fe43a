/** A TrueNAS SCALE NAS through its JSON-RPC WebSocket API (a READONLY_ADMIN service account): pools, drives, alerts, tasks, apps, network. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { readerPerBlock } from '../api-tls.ts';
import { readyWhen } from '../api-client.ts';
import { truenasCollector } from './collect.ts';
import { truenasConfig, type TruenasConfig } from './config.ts';
import { TrueNasReader } from './read.ts';
import { RpcError } from './rpc.ts';
import { truenasTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    schedule: cron.default('*/5 * * * *'),
    /** a whole poll; each call has truenas.timeout */
    timeout: duration.default('2m'),
  })
  .prefault({});

type Watch = z.infer<typeof watch>;
type Ctx = ConnectorContext<TruenasConfig, Watch>;

const SECRETS = [{ file: 'api_key_file', env: 'LABWATCH_TRUENAS_API_KEY', required: 'the API key of the TrueNAS service account' }];
/** The one reader (and so the one connection) a block gets: collector, tools and probe share it. */
const reader = readerPerBlock<TruenasConfig, TrueNasReader>('truenas', SECRETS, (block, [key]) => TrueNasReader.of(block, key!));

/** What `check` tries: log in, then every read a poll makes, so a refused method is named before it is needed. */
async function probe(ctx: Ctx): Promise<string> {
  const r = reader(ctx);
  const info = await r.info();
  const refused: string[] = [];
  const tries: [string, () => Promise<unknown>][] = [
    ['pool.query', () => r.pools()],
    ['disk.query', () => r.disks()],
    ['disk.temperatures', () => r.temperatures([])],
    ['smart.test.results', () => r.smartResults()],
    ['alert.list', () => r.alerts()],
    ['replication.query', () => r.replications()],
    ['cloudsync.query', () => r.cloudSyncs()],
    ['pool.snapshottask.query', () => r.snapshotTasks()],
    ['app.query', () => r.apps()],
    ['interface.query', () => r.interfaces()],
  ];
  for (const [method, read] of tries)
    await read().catch((e: unknown) => {
      if (e instanceof RpcError && e.kind === 'denied') refused.push(method);
      else throw e;
    });
  const what = `TrueNAS ${r.rpc.url} (version ${info.version.replace(/^TrueNAS-(SCALE-)?/, '')}, host ${info.hostname})`;
  if (refused.length)
    throw new Error(`${what}: ${ctx.block!.username} may not call ${refused.join(', ')}; put the user in a group whose privilege has the READONLY_ADMIN role (Credentials → Groups → Privileges)`);
  return what;
}

export const truenas: Connector<TruenasConfig, Watch> = {
  name: 'truenas',
  description: "a TrueNAS SCALE NAS through its API: pools, drives, TrueNAS's alerts, replication/cloud sync/snapshot tasks, apps and network",
  covers: "a TrueNAS SCALE NAS (its ZFS pools and drives, TrueNAS's own alerts, replication, cloud sync and snapshot tasks, apps, interfaces)",
  start: ['truenas_pools', 'truenas_alerts'],
  config: truenasConfig,
  watch,
  secrets: SECRETS,
  enabled: ({ block }) => block !== undefined,
  ready: readyWhen((ctx, signal) => reader(ctx).info(signal)),
  collectors: (ctx) => (ctx.watch.enabled ? [{ collector: truenasCollector({ reader: reader(ctx) }), schedule: ctx.watch.schedule, timeoutMs: ms(ctx.watch.timeout), jitterMs: ctx.jitterMs }] : []),
  tools: (ctx) => truenasTools(reader(ctx)),
  probes: (ctx) => [{ name: 'truenas', probe: () => probe(ctx) }],
};
