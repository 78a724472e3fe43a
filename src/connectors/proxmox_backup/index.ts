/** A Proxmox Backup Server through its API (read-only token): datastore usage, backups per guest and their verification, failed jobs. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { readerPerBlock } from '../api-tls.ts';
import { readyWhen } from '../api-client.ts';
import { pbsCollector, refused } from './collect.ts';
import { pbsConfig, pbsHost, type PbsConfig } from './config.ts';
import { auditHint, PbsReader } from './read.ts';
import { pbsTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    schedule: cron.default('*/15 * * * *'),
    /** a whole poll; each API call has proxmox_backup.timeout */
    timeout: duration.default('2m'),
  })
  .prefault({});

type Watch = z.infer<typeof watch>;
type Ctx = ConnectorContext<PbsConfig, Watch>;

const SECRETS = [{ file: 'token_secret_file', env: 'LABWATCH_PBS_TOKEN_SECRET' }];
const reader = readerPerBlock<PbsConfig, PbsReader>('proxmox_backup', SECRETS, (block, [secret]) => PbsReader.of(block, secret!));

const judge = (block: PbsConfig) => ({ maxAgeHours: ms(block.max_backup_age) / 3600_000, ignore: block.ignore });

/** What `check` tries: every endpoint a poll reads, so a refused one is named before it is needed. */
async function probe(ctx: Ctx): Promise<string> {
  const r = reader(ctx);
  const v = await r.version();
  const what = `Proxmox Backup Server ${r.client.baseUrl} (version ${v.version}${v.release ? `.${v.release}` : ''})`;
  const refusedBy: string[] = [];
  const tryRead = async (endpoint: string, read: () => Promise<unknown>) => {
    try {
      return await read();
    } catch (e) {
      if (!refused(e)) throw e;
      refusedBy.push(endpoint);
      return undefined;
    }
  };
  const usage = (await tryRead('/status/datastore-usage', () => r.usage())) as Awaited<ReturnType<PbsReader['usage']>> | undefined;
  await tryRead('/admin/datastore', () => r.datastores());
  await tryRead('/nodes/localhost/tasks', () => r.tasks({ limit: 1 }));
  for (const u of usage ?? []) {
    if (u.error) continue;
    const groups = (await tryRead(`/admin/datastore/${u.store}/groups`, () => r.groups(u.store))) as Awaited<ReturnType<PbsReader['groups']>> | undefined;
    const g = groups?.[0];
    if (g) await tryRead(`/admin/datastore/${u.store}/snapshots`, () => r.snapshots(u.store, { type: g['backup-type'], id: g['backup-id'] }));
  }
  if (refusedBy.length) throw new Error(`${what}: the token is refused ${refusedBy.join(', ')} (HTTP 403): the token needs Audit on /; ${auditHint(ctx.block!.token_id)}`);
  const stores = usage?.map((u) => u.store) ?? [];
  return `${what}; ${stores.length} datastore${stores.length === 1 ? '' : 's'}${stores.length ? ` (${stores.join(', ')})` : ''}`;
}

export const proxmoxBackup: Connector<PbsConfig, Watch> = {
  name: 'proxmox_backup',
  description: 'a Proxmox Backup Server through its API: datastore usage, the newest backup of every guest and host and its verification, failed GC, prune, verify and sync jobs',
  covers: 'a Proxmox Backup Server (datastores and how full they are, every guest\'s and host\'s backups, their age and verification, garbage collection, prune, verify and sync jobs)',
  start: ['pbs_datastores', 'pbs_backups'],
  config: pbsConfig,
  watch,
  secrets: SECRETS.map((s) => ({ ...s, required: "the API token's secret" })),
  enabled: ({ block }) => block !== undefined,
  ready: readyWhen((ctx, signal) => reader(ctx).version(signal)),
  collectors: (ctx) =>
    ctx.watch.enabled
      ? [{ collector: pbsCollector({ reader: reader(ctx), host: pbsHost(ctx.block!.url), judge: judge(ctx.block!) }), schedule: ctx.watch.schedule, timeoutMs: ms(ctx.watch.timeout), jitterMs: ctx.jitterMs }]
      : [],
  tools: (ctx) => pbsTools(reader(ctx), judge(ctx.block!)),
  probes: (ctx) => [{ name: 'proxmox_backup', probe: () => probe(ctx) }],
};
