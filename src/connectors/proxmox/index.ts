/** A Proxmox VE cluster through its API (read-only token): cluster, nodes, guests, storage, backups, tasks, disks, ZFS, network. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import { ApiError, readyWhen } from '../api-client.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { readerPerBlock } from '../api-tls.ts';
import { proxmoxCollector, proxmoxDiskCollector } from './collect.ts';
import { proxmoxConfig, type ProxmoxConfig } from './config.ts';
import { iacCollector } from './iac/collect.ts';
import { iacTools } from './iac/tools.ts';
import { ProxmoxReader } from './read.ts';
import { proxmoxTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    schedule: cron.default('*/2 * * * *'),
    /** a whole poll; each API call has proxmox.timeout */
    timeout: duration.default('90s'),
    /** drives through the API, less often: Proxmox's SMART read wakes a sleeping HDD */
    disks: z
      .strictObject({
        enabled: z.boolean().default(true),
        schedule: cron.default('17 */6 * * *'),
        /** true: leave HDDs alone (they may be spun down); SSDs and NVMe are still read */
        skip_hdds: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});

type Watch = z.infer<typeof watch>;
type Ctx = ConnectorContext<ProxmoxConfig, Watch>;

const SECRETS = [{ file: 'token_secret_file', env: 'LABWATCH_PROXMOX_TOKEN_SECRET' }];
const reader = readerPerBlock<ProxmoxConfig, ProxmoxReader>('proxmox', SECRETS, (block, [secret]) => ProxmoxReader.of(block, secret!));

/** What `check` tries: every endpoint a poll reads, so a refused one is named before it is needed. */
async function probe(ctx: Ctx): Promise<string> {
  const r = reader(ctx);
  const v = await r.version();
  const status = await r.clusterStatus();
  const cluster = status.find((e) => e.type === 'cluster');
  const node = status.find((e) => e.type === 'node' && e.online)?.name;
  const refused: string[] = [];
  const tries: [string, () => Promise<unknown>][] = [
    ['/cluster/resources', () => r.resources()],
    ['/cluster/ha/status/current', () => r.haStatus()],
  ];
  if (node)
    tries.push(
      [`/nodes/${node}/status`, () => r.nodeStatus(node)],
      [`/nodes/${node}/storage`, () => r.storage(node)],
      [`/nodes/${node}/disks/list`, () => r.disks(node)],
      [`/nodes/${node}/disks/zfs`, () => r.zfsPools(node)],
      [`/nodes/${node}/tasks`, () => r.tasks(node, { limit: 1 })],
      [`/nodes/${node}/network`, () => r.network(node)],
    );
  for (const [endpoint, read] of tries)
    await read().catch((e: unknown) => {
      if (e instanceof ApiError && e.kind === 'forbidden') refused.push(`${endpoint} (${e.reason || 'HTTP 403'})`);
      else throw e;
    });
  const what = `Proxmox VE ${r.client.baseUrl} (version ${v.version}${cluster ? `; cluster ${cluster.name}, ${status.filter((e) => e.type === 'node' && e.online).length}/${cluster.nodes ?? '?'} nodes online` : '; a single node'})`;
  if (refused.length)
    throw new Error(`${what}: the token is refused ${refused.join(', ')}; give it PVEAuditor on / (\`pveum acl modify / --tokens '${ctx.block!.token_id}' --roles PVEAuditor\`)`);
  return what;
}

export const proxmox: Connector<ProxmoxConfig, Watch> = {
  name: 'proxmox',
  description: 'a Proxmox VE cluster through its API: quorum, nodes, guests, storage, backups, tasks, drives, ZFS and network',
  covers: 'a Proxmox VE cluster (nodes, VMs and containers, storage, backup and other tasks, HA, every node\'s drives and ZFS pools) and the Terraform/Ansible code that declares its guests',
  start: ['proxmox_cluster_status', 'proxmox_guests'],
  config: proxmoxConfig,
  watch,
  secrets: SECRETS.map((s) => ({ ...s, required: "the API token's secret" })),
  enabled: ({ block }) => block !== undefined,
  ready: readyWhen((ctx, signal) => reader(ctx).version(signal)),
  collectors: (ctx) => {
    const w = ctx.watch;
    if (!w.enabled) return [];
    const out = [{ collector: proxmoxCollector({ reader: reader(ctx) }), schedule: w.schedule, timeoutMs: ms(w.timeout), jitterMs: ctx.jitterMs }];
    if (w.disks.enabled) out.push({ collector: proxmoxDiskCollector({ reader: reader(ctx), skipHdds: w.disks.skip_hdds }), schedule: w.disks.schedule, timeoutMs: ms(w.timeout) * 4, jitterMs: ctx.jitterMs });
    const iac = ctx.block!.iac;
    if (iac.paths.length) out.push({ collector: iacCollector({ reader: reader(ctx), paths: iac.paths, host: ctx.host }), schedule: iac.schedule, timeoutMs: ms(w.timeout), jitterMs: ctx.jitterMs });
    return out;
  },
  tools: (ctx) => [...proxmoxTools(reader(ctx)), ...iacTools(reader(ctx), ctx.block!.iac.paths)],
  probes: (ctx) => [{ name: 'proxmox', probe: () => probe(ctx) }],
};
