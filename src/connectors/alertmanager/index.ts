/**
 * Alertmanager: its webhook (always mounted at POST /webhook/alertmanager) and, with an
 * `alertmanager:` block, its API v2 for the alertmanager_* tools (creating a silence only if enabled).
 */
import { httpAuthSecrets, loginOf, ms } from '../../config/parts.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { AlertmanagerApi } from './api.ts';
import { alertmanagerConfig, type AlertmanagerConfig } from './config.ts';
import { alertmanagerTools } from './tools.ts';
import { alertmanagerIntake } from './webhook.ts';

const apis = new WeakMap<object, AlertmanagerApi>();
function api({ block, secrets }: ConnectorContext<AlertmanagerConfig>): AlertmanagerApi {
  let a = apis.get(block!);
  if (!a) apis.set(block!, (a = new AlertmanagerApi({ url: block!.url, timeoutMs: ms(block!.timeout), ...loginOf(block!, secrets) })));
  return a;
}

export const alertmanager: Connector<AlertmanagerConfig> = {
  name: 'alertmanager',
  description: "Alertmanager's webhook (always on) and, with an alertmanager: block, its API for alerts and silences",
  covers: 'Alertmanager (the alerts firing across the lab, silences, inhibitions)',
  start: ['alertmanager_alerts'],
  config: alertmanagerConfig,
  secrets: httpAuthSecrets('LABWATCH_ALERTMANAGER'),
  intakes: [alertmanagerIntake],
  enabled: ({ block }) => block !== undefined,
  ready: async (ctx, signal) => {
    try {
      await api(ctx).status(signal);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  },
  tools: (ctx) => alertmanagerTools(api(ctx), { writeTools: ctx.block!.write_tools }),
  probes: (ctx) => [{ name: 'alertmanager', probe: async () => `Alertmanager ${ctx.block!.url} (version ${(await api(ctx).status()).versionInfo?.version ?? '?'})` }],
};
