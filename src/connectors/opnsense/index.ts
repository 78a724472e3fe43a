/** An OPNsense firewall through its API (a key whose user holds five read privileges): interfaces and VLANs, gateways, memory, disks, its own notices. */
import * as z from 'zod';
import { duration, ms } from '../../config/parts.ts';
import { ApiError } from '../api-client.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { readerPerBlock } from '../api-tls.ts';
import { opnsenseCollector } from './collect.ts';
import { opnsenseConfig, opnsenseHost, type OpnsenseConfig } from './config.ts';
import { OpnsenseReader } from './read.ts';
import { opnsenseTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** every minute: six small GETs, and a gateway that drops is news within the minute */
    schedule: cron.default('* * * * *'),
    /** a whole poll; each API call has opnsense.timeout */
    timeout: duration.default('45s'),
  })
  .prefault({});

type Watch = z.infer<typeof watch>;
type Ctx = ConnectorContext<OpnsenseConfig, Watch>;

const SECRETS = [
  { file: 'key_file', env: 'LABWATCH_OPNSENSE_KEY', required: 'the API key (the key= line of the file OPNsense offered)' },
  { file: 'secret_file', env: 'LABWATCH_OPNSENSE_SECRET', required: 'the API secret (the secret= line of the same file)' },
];
/** The one reader a block gets: the collector, the tools and the probe share it. */
const reader = readerPerBlock<OpnsenseConfig, OpnsenseReader>('opnsense', SECRETS, (block, [key, secret]) => OpnsenseReader.of(block, key!, secret!));

/** What `check` tries: every endpoint a poll reads, naming each refused one with the privilege to add. */
async function probe(ctx: Ctx): Promise<string> {
  const r = reader(ctx);
  const refused: string[] = [];
  const attempt = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      if (e instanceof ApiError && e.kind === 'forbidden') {
        refused.push(`${e.endpoint} (privilege "${e.reason}")`);
        return undefined;
      }
      throw e;
    }
  };
  const info = await attempt(() => r.information());
  const version = info?.versions?.find((v) => /^OPNsense /.test(v))?.replace(/^OPNsense\s+/, '');
  const what = `OPNsense ${r.client.baseUrl}${version ? ` (version ${version})` : ''}`;
  const ifaces = await attempt(() => r.interfaces());
  await attempt(() => r.netstat());
  const gw = await attempt(() => r.gateways());
  await attempt(() => r.resources());
  await attempt(() => r.disks());
  await attempt(() => r.status());
  if (refused.length) throw new Error(`${what}: the API key is refused ${refused.join(', ')} (HTTP 403): add these privileges to its user under System → Access → Users → edit the user → Privileges`);
  return `${what}; ${ifaces?.length ?? 0} interfaces, ${gw?.items.length ?? 0} gateways`;
}

export const opnsense: Connector<OpnsenseConfig, Watch> = {
  name: 'opnsense',
  description: 'an OPNsense firewall through its API: interfaces and VLANs (link, MTU, error counters), gateways (down, loss, delay), memory, disks and the system\'s own notices',
  covers: 'an OPNsense firewall (its interfaces and VLANs with error counters, gateways with loss and latency, memory, disks and its own status notices)',
  start: ['opnsense_gateways', 'opnsense_interfaces'],
  config: opnsenseConfig,
  watch,
  secrets: SECRETS,
  enabled: ({ block }) => block !== undefined,
  // the API answers and takes the key: a privilege missing for one endpoint is that tool's own error
  ready: async (ctx, signal) => {
    try {
      await reader(ctx).gateways(signal);
      return null;
    } catch (e) {
      return e instanceof ApiError && e.kind === 'forbidden' ? null : (e as Error).message;
    }
  },
  collectors: (ctx) =>
    ctx.watch.enabled
      ? [{ collector: opnsenseCollector({ reader: reader(ctx), host: opnsenseHost(ctx.block!.url) }), schedule: ctx.watch.schedule, timeoutMs: ms(ctx.watch.timeout), jitterMs: ctx.jitterMs }]
      : [],
  tools: (ctx) => opnsenseTools(reader(ctx), opnsenseHost(ctx.block!.url)),
  probes: (ctx) => [{ name: 'opnsense', probe: () => probe(ctx) }],
};
