/** Prometheus' HTTP API: the PromQL rules (`source: prometheus`) on a schedule, and the prometheus_* tools. */
import * as z from 'zod';
import { duration, httpAuthSecrets, loginOf, ms } from '../../config/parts.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { cron } from '../watch-parts.ts';
import { PrometheusClient } from './client.ts';
import { prometheusCollector } from './collect.ts';
import { prometheusConfig, type PrometheusConfig } from './config.ts';
import { prometheusTools } from './tools.ts';

const watch = z
  .strictObject({
    enabled: z.boolean().default(true),
    schedule: cron.default('* * * * *'),
    timeout: duration.default('50s'),
  })
  .prefault({});

type Ctx = ConnectorContext<PrometheusConfig, z.infer<typeof watch>>;

/** The one client a context gets: the collector, the tools and the probe share it. */
const clients = new WeakMap<object, PrometheusClient>();
function client({ block, secrets }: Ctx): PrometheusClient {
  let c = clients.get(block!);
  if (!c) clients.set(block!, (c = new PrometheusClient({ url: block!.url, timeoutMs: ms(block!.timeout), ...loginOf(block!, secrets) })));
  return c;
}

/** The host a lab-wide reading is about: the Prometheus server's, the same from every labwatch process. */
const labHost = (url: string): string => new URL(url).hostname.replace(/^\[|\]$/g, '');

export const prometheus: Connector<PrometheusConfig, z.infer<typeof watch>> = {
  name: 'prometheus',
  description: "Prometheus' HTTP API: PromQL rules on a schedule and the prometheus_* query tools",
  covers: 'Prometheus (metrics of every scraped machine and service, its targets, rules and alerts)',
  start: ['prometheus_alerts', 'prometheus_targets'],
  config: prometheusConfig,
  watch,
  secrets: httpAuthSecrets('LABWATCH_PROMETHEUS'),
  enabled: ({ block }) => block !== undefined,
  ready: async (ctx, signal) => {
    try {
      await client(ctx).buildinfo({ signal });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  },
  // A series without an `instance` is about the Prometheus server's own host, whichever labwatch process read it.
  collectors: (ctx) =>
    ctx.watch.enabled ? [{ collector: prometheusCollector({ host: labHost(client(ctx).baseUrl), client: client(ctx), rules: ctx.rules }), schedule: ctx.watch.schedule, timeoutMs: ms(ctx.watch.timeout), jitterMs: 0 }] : [],
  tools: (ctx) => prometheusTools(client(ctx), { maxSeries: ctx.block!.max_series, maxPoints: ctx.block!.max_points }),
  probes: (ctx) => [{ name: 'prometheus', probe: async () => `Prometheus ${client(ctx).baseUrl} (version ${(await client(ctx).buildinfo()).data.version})` }],
};
