/**
 * What exists: every system that pushes alerts, every collector, notifier and diagnostic tool,
 * built from the config. The one place that names connectors; daemon.ts runs what is here.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { ms, secretValues, type Config } from './config/schema.ts';
import { AlertmanagerApi } from './connectors/alertmanager/api.ts';
import { alertmanagerTools } from './connectors/alertmanager/tools.ts';
import { alertmanagerIntake } from './connectors/alertmanager/webhook.ts';
import { PrometheusClient } from './connectors/prometheus/client.ts';
import { prometheusCollector } from './connectors/prometheus/collect.ts';
import { prometheusTools } from './connectors/prometheus/tools.ts';
import { hostCollector } from './connectors/host/collect.ts';
import { hostTools } from './connectors/host/tools.ts';
import { smartCollector } from './connectors/smart/collect.ts';
import { SmartReader } from './connectors/smart/read.ts';
import { smartTools } from './connectors/smart/tools.ts';
import type { WebhookIntake } from './connectors/types.ts';
import { zfsCollector } from './connectors/zfs/collect.ts';
import { ZfsReader } from './connectors/zfs/read.ts';
import { zfsTools } from './connectors/zfs/tools.ts';
import type { IncidentStore } from './incidents/store.ts';
import { incidentTools } from './incidents/tools.ts';
import { McpHub } from './mcp/hub.ts';
import { EmailNotifier } from './notify/email.ts';
import { LogNotifier } from './notify/log.ts';
import type { Notifier } from './notify/notifier.ts';
import { NtfyNotifier } from './notify/ntfy.ts';
import type { RuleEngine } from './rules/engine.ts';
import type { Rule } from './rules/load.ts';
import type { Logger } from './telemetry/log.ts';
import { Audit, type AuditEntry, type AuditSink } from './tools/audit.ts';
import type { ToolSpec } from './tools/types.ts';
import type { Scheduled } from './watch/index.ts';

/** Every system that pushes alerts to labwatch. */
export const WEBHOOK_INTAKES: WebhookIntake[] = [alertmanagerIntake];

/** The rule files shipped with labwatch. */
export const SHIPPED_RULES = fileURLToPath(new URL('../rules/', import.meta.url));

/** Is this binary runnable (a path, or a name found on PATH)? */
function onPath(binary: string): boolean {
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, binary));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether a system is watched: `enabled: auto` means when its tool is installed. */
function watching(name: string, enabled: boolean | 'auto', binary: string, log?: Logger): boolean {
  if (enabled !== 'auto') return enabled;
  const found = onPath(binary);
  if (!found) log?.info({ collector: name, binary }, `${binary} not found: ${name} watching is off (set watch.${name}.enabled: true to insist)`);
  return found;
}

/** How an HTTP API client logs in, from its block's httpAuth keys and the secrets read for them. */
function loginOf(block: { basic_auth?: { username: string } | undefined }, token?: string, password?: string) {
  return { ...(token ? { bearerToken: token } : {}), ...(block.basic_auth && password ? { basicAuth: { username: block.basic_auth.username, password } } : {}) };
}

/** The Prometheus API client, when a `prometheus:` block is set. */
function prometheusClient(cfg: Config): PrometheusClient | undefined {
  const p = cfg.prometheus;
  if (!p) return undefined;
  return new PrometheusClient({ url: p.url, timeoutMs: ms(p.timeout), ...loginOf(p, cfg.secrets.prometheusToken, cfg.secrets.prometheusPassword) });
}

function alertmanagerApi(cfg: Config): AlertmanagerApi | undefined {
  const a = cfg.alertmanager;
  if (!a) return undefined;
  return new AlertmanagerApi({ url: a.url, timeoutMs: ms(a.timeout), ...loginOf(a, cfg.secrets.alertmanagerToken, cfg.secrets.alertmanagerPassword) });
}

/** Every system labwatch polls, from its `watch:` block; `rules` gives the current rules to collectors that run rule queries. */
export function buildCollectors(cfg: Config, host: string, log: Logger, rules: () => Rule[] = () => []): Scheduled[] {
  const w = cfg.watch;
  const jitterMs = ms(w.jitter);
  const list: Scheduled[] = [];
  if (watching('smart', w.smart.enabled, w.smart.smartctl, log))
    list.push({ collector: smartCollector({ host, reader: new SmartReader({ smartctl: w.smart.smartctl, timeoutMs: Math.min(ms(w.smart.timeout), 60_000) }) }), schedule: w.smart.schedule, timeoutMs: ms(w.smart.timeout), jitterMs });
  if (watching('zfs', w.zfs.enabled, w.zfs.zpool, log))
    list.push({ collector: zfsCollector({ host, reader: new ZfsReader({ zpool: w.zfs.zpool, timeoutMs: ms(w.zfs.timeout) }) }), schedule: w.zfs.schedule, timeoutMs: ms(w.zfs.timeout), jitterMs });
  if (w.host.enabled) list.push({ collector: hostCollector({ host, mtuGroups: w.host.mtu_groups }), schedule: w.host.schedule, timeoutMs: ms(w.host.timeout), jitterMs });
  const prom = prometheusClient(cfg);
  if (prom && w.prometheus.enabled) list.push({ collector: prometheusCollector({ host, client: prom, rules }), schedule: w.prometheus.schedule, timeoutMs: ms(w.prometheus.timeout), jitterMs: 0 });
  return list;
}

/** The audit file's default place: systemd's state directory, else the user's. */
export function auditFile(cfg: Config): string {
  return cfg.audit.file ?? (process.env.STATE_DIRECTORY ? join(process.env.STATE_DIRECTORY, 'audit.jsonl') : join(homedir(), '.local', 'state', 'labwatch', 'audit.jsonl'));
}

/** Every diagnostic tool, over the same readers the collectors use, and the audit trail they write to. */
export function buildToolbox(
  cfg: Config,
  deps: { redis?: Redis; store?: IncidentStore; engine?: RuleEngine; onToolCall?: (e: AuditEntry) => void; onAuditWriteFailure?: (sink: AuditSink) => void; log?: Logger },
): { tools: ToolSpec[]; audit: Audit } {
  const w = cfg.watch;
  const tools: ToolSpec[] = [];
  if (deps.store) tools.push(...incidentTools(deps.store));
  if (watching('smart', w.smart.enabled, w.smart.smartctl))
    tools.push(...smartTools(new SmartReader({ smartctl: w.smart.smartctl }), deps.engine ? (s) => deps.engine!.history(s) : undefined));
  if (watching('zfs', w.zfs.enabled, w.zfs.zpool)) tools.push(...zfsTools(new ZfsReader({ zpool: w.zfs.zpool })));
  if (w.host.enabled) tools.push(...hostTools());
  const prom = prometheusClient(cfg);
  if (prom) tools.push(...prometheusTools(prom, { maxSeries: cfg.prometheus!.max_series, maxPoints: cfg.prometheus!.max_points }));
  const am = alertmanagerApi(cfg);
  if (am) tools.push(...alertmanagerTools(am, { writeTools: cfg.alertmanager!.write_tools }));
  const audit = new Audit({
    file: auditFile(cfg),
    ...(deps.redis ? { redis: deps.redis, stream: `${cfg.redis.prefix}:audit` } : {}),
    secrets: secretValues(cfg),
    ...(deps.onToolCall ? { onRecord: deps.onToolCall } : {}),
    ...(deps.onAuditWriteFailure ? { onWriteFailure: deps.onAuditWriteFailure } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  return { tools, audit };
}

/** labwatch's own tools plus the allowed tools of the external MCP servers in `mcp.servers`. */
export function buildHub(cfg: Config, own: ToolSpec[], version: string, log: Logger): McpHub {
  const servers = cfg.mcp.servers.map((s) => {
    const secret = cfg.secrets.mcp?.[s.name];
    return {
      name: s.name,
      ...(s.command ? { command: s.command } : {}),
      ...(s.url ? { url: s.url } : {}),
      args: s.args,
      env: { ...s.env, ...secret?.env },
      headers: { ...s.headers, ...secret?.headers },
      tools: s.tools,
      timeoutMs: ms(s.timeout),
    };
  });
  return new McpHub(own, servers, version, log);
}

/** What `labwatch check` asks of each configured API and MCP server: one line when it answers, an error when not. */
export function buildProbes(cfg: Config, log: Logger): { name: string; probe(): Promise<string> }[] {
  const probes: { name: string; probe(): Promise<string> }[] = [];
  const prom = prometheusClient(cfg);
  if (prom) probes.push({ name: 'prometheus', probe: async () => `Prometheus ${prom.baseUrl} (version ${(await prom.buildinfo()).data.version})` });
  const am = alertmanagerApi(cfg);
  if (am) probes.push({ name: 'alertmanager', probe: async () => `Alertmanager ${cfg.alertmanager!.url} (version ${(await am.status()).versionInfo?.version ?? '?'})` });
  for (const server of cfg.mcp.servers)
    probes.push({
      name: `mcp ${server.name}`,
      probe: async () => {
        const hub = buildHub({ ...cfg, mcp: { ...cfg.mcp, servers: [server] } }, [], 'check', log);
        try {
          const tools = await hub.tools();
          if (!hub.status()[0]?.up) throw new Error(`MCP server ${server.name} (${server.command ?? server.url}) is unreachable or refused labwatch; run with log.level debug for its output`);
          const missing = server.tools.filter((t) => !tools.some((x) => x.name.endsWith(`__${t}`)));
          if (missing.length) throw new Error(`MCP server ${server.name} does not offer ${missing.join(', ')}; check mcp.servers[].tools`);
          return `MCP server ${server.name}: ${tools.map((t) => t.name).join(', ')}`;
        } finally {
          await hub.close();
        }
      },
    });
  return probes;
}

export function buildNotifiers(cfg: Config, log: Logger): Map<string, Notifier> {
  const notifiers = new Map<string, Notifier>();
  const { email, ntfy } = cfg.notify;
  if (email) notifiers.set('email', new EmailNotifier({ ...email, ...(cfg.secrets.smtpPassword ? { password: cfg.secrets.smtpPassword } : {}) }));
  if (ntfy) notifiers.set('ntfy', new NtfyNotifier({ ...ntfy, ...(cfg.secrets.ntfyToken ? { token: cfg.secrets.ntfyToken } : {}) }));
  if (notifiers.size === 0) notifiers.set('log', new LogNotifier(log));
  return notifiers;
}
