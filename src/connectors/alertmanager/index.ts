/**
 * Alertmanager: its webhook (always mounted at POST /webhook/alertmanager) and, with an
 * `alertmanager:` block, its API v2 for the alertmanager_* tools (creating a silence only if enabled).
 */
import { httpAuthSecrets, loginOf, ms } from '../../config/parts.ts';
import type { Connector, ConnectorContext } from '../types.ts';
import { AlertmanagerApi } from './api.ts';
import { alertmanagerConfig, type AlertmanagerConfig } from './config.ts';
import { alertmanagerTools, CREATE_SILENCE_TOOL } from './tools.ts';
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
  // The dashboard's "silence" uses the same switch as the tool: off unless write_tools names it.
  silencer: (ctx) =>
    ctx.block?.write_tools.includes(CREATE_SILENCE_TOOL)
      ? async (anomalies, durationMs, comment, signal) => {
          const startsAt = new Date();
          const endsAt = new Date(startsAt.getTime() + durationMs).toISOString();
          const made: { id: string; until: string }[] = [];
          // One silence per alert, matching exactly its identifying labels (alertname first).
          for (const a of anomalies.slice(0, 20)) {
            const names = Object.keys(a.labels).sort((x, y) => (x === 'alertname' ? -1 : y === 'alertname' ? 1 : x.localeCompare(y))).slice(0, 10);
            const matchers = names.map((name) => ({ name, value: a.labels[name]!, isRegex: false, isEqual: true }));
            if (matchers.length === 0) continue;
            made.push({ id: await api(ctx).createSilence({ matchers, startsAt: startsAt.toISOString(), endsAt, createdBy: 'labwatch', comment }, signal), until: endsAt });
          }
          return made;
        }
      : undefined,
  probes: (ctx) => [{ name: 'alertmanager', probe: async () => `Alertmanager ${ctx.block!.url} (version ${(await api(ctx).status()).versionInfo?.version ?? '?'})` }],
};
