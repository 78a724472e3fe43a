/**
 * What exists: the parts that the connector list (connectors/index.ts) contributes for this
 * config — intakes, collectors, tools (offered while their system answers), probes — and the
 * audit trail and hub the tools run through. Names no system: everything comes from the list.
 */
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { blockSecrets, ms, secretValues, type Config } from './config/schema.ts';
import { CONNECTORS } from './connectors/index.ts';
import { stableHash } from './connectors/identity.ts';
import type { Connector, ConnectorContext, Probe, RuleQuery, Scheduled, Silencer, WebhookIntake } from './connectors/types.ts';
import type { IncidentStore } from './incidents/store.ts';
import { incidentTools, type ReportsOf } from './incidents/tools.ts';
import { networkPathsTool } from './rules/paths-tool.ts';
import { redisKey } from './keys.ts';
import { McpHub } from './mcp/hub.ts';
import type { RuleEngine } from './rules/engine.ts';
import { createLogger, type Logger } from './telemetry/log.ts';
import { Audit, type AuditEntry, type AuditSink } from './tools/audit.ts';
import type { ToolSpec } from './tools/types.ts';

/** Every system that pushes alerts to labwatch. */
export const WEBHOOK_INTAKES: WebhookIntake[] = CONNECTORS.flatMap((c) => c.intakes ?? []);

/** The rule files shipped with labwatch. */
export const SHIPPED_RULES = fileURLToPath(new URL('../rules/', import.meta.url));

/** The context a connector builds its parts in, from the config. */
export function contextOf(
  c: Connector,
  cfg: Config,
  deps: { host?: string; log: Logger; rules?: () => RuleQuery[]; history?: ConnectorContext['history'] },
): ConnectorContext {
  const blocks = cfg as unknown as Record<string, unknown>;
  const watch = cfg.watch as Record<string, unknown>;
  return {
    block: blocks[c.name],
    watch: watch[c.name],
    secrets: blockSecrets(cfg, c.name),
    host: deps.host ?? 'localhost',
    log: deps.log,
    rules: deps.rules ?? (() => []),
    ...(deps.history ? { history: deps.history } : {}),
    jitterMs: ms(cfg.watch.jitter),
  };
}

/** The connectors this config turns on, each with its context. */
function enabledConnectors(cfg: Config, deps: Parameters<typeof contextOf>[2]): { connector: Connector; ctx: ConnectorContext }[] {
  return CONNECTORS.map((connector) => ({ connector, ctx: contextOf(connector, cfg, deps) })).filter(({ connector, ctx }) => connector.enabled(ctx));
}

/** Every system labwatch polls, from its `watch:` block; `rules` gives the current rules to collectors that run rule queries. */
export function buildCollectors(cfg: Config, host: string, log: Logger, rules: () => RuleQuery[] = () => []): Scheduled[] {
  return enabledConnectors(cfg, { host, log, rules }).flatMap(({ connector, ctx }) =>
    (connector.collectors?.(ctx) ?? []).map((s) => (connector.local ? { ...s, local: true } : { ...s, target: targetOf(ctx.block) })),
  );
}

/** Keys of a connector's block that say which system it reads (its address), rather than how. */
const ADDRESS_KEY = /^(url|urls|base_url|host|hosts|address|endpoint|endpoints|node|nodes|cluster)$/;

/**
 * Which system a lab collector reads, as a short hash of its block's address settings: processes
 * reading the same Proxmox cluster share its runs; two reading two NASes each run their own.
 */
function targetOf(block: unknown): string {
  const entries = block && typeof block === 'object' ? Object.entries(block as Record<string, unknown>) : [];
  const address = entries.filter(([k]) => ADDRESS_KEY.test(k)).sort(([a], [b]) => a.localeCompare(b));
  return stableHash([JSON.stringify(address.length ? address : entries)], 8);
}

/** The silencers the config enabled, by the source of the anomalies each can silence. */
export function buildSilencers(cfg: Config, log: Logger): Map<string, Silencer> {
  const out = new Map<string, Silencer>();
  for (const { connector, ctx } of enabledConnectors(cfg, { log })) {
    const s = connector.silencer?.(ctx);
    if (s) out.set(connector.name, s);
  }
  return out;
}

/** How long a system may take to show it answers before its tools are left out (rechecked later). */
const READY_TIMEOUT_MS = 3_000;
/** How long a system's answer (or silence) holds before it is asked again. */
const READY_RECHECK_MS = 60_000;

/** Why a connector's tools cannot be offered now (its binary or API does not answer), or null. */
export async function whyNotReady(c: Connector, ctx: ConnectorContext, timeoutMs = READY_TIMEOUT_MS): Promise<string | null> {
  return c.ready ? c.ready(ctx, AbortSignal.timeout(timeoutMs)).catch((e: Error) => e.message) : null;
}

/**
 * The diagnostic tools of the enabled systems, offered only while their system answers (its
 * binary is installed, its API responds: each connector's `ready`), plus labwatch's own.
 * Each offered tool carries its system's description, from which the prompts are made.
 */
export class Toolbox {
  #checked: { at: number; result: Promise<Offer> } | undefined;
  #down = new Set<string>();

  constructor(
    private readonly parts: { connector: Connector; ctx: ConnectorContext; tools: ToolSpec[] }[],
    private readonly own: ToolSpec[],
    private readonly log?: Logger,
  ) {}

  /** Every tool of every enabled system, answering or not (what `tools call` may run). */
  get all(): ToolSpec[] {
    return [...this.own, ...this.parts.flatMap((p) => p.tools.map((t) => stamped(t, p.connector, p.ctx)))];
  }

  /** The tools offered now, and the systems left out with why. */
  offered(now = Date.now()): Promise<Offer> {
    if (!this.#checked || now - this.#checked.at > READY_RECHECK_MS) this.#checked = { at: now, result: this.#check() };
    return this.#checked.result;
  }

  async #check(): Promise<Offer> {
    const verdicts = await Promise.all(
      this.parts.map(async (p) => {
        return whyNotReady(p.connector, p.ctx);
      }),
    );
    const tools = [...this.own];
    const down: { system: string; why: string }[] = [];
    this.parts.forEach((p, i) => {
      const why = verdicts[i];
      if (why) down.push({ system: p.connector.name, why });
      else tools.push(...p.tools.map((t) => stamped(t, p.connector, p.ctx)));
    });
    // Said when it changes, not at every check: a system down for a day is one warning, and one notice when it is back.
    for (const d of down)
      if (!this.#down.has(d.system)) this.log?.warn({ system: d.system, err: d.why }, `${d.system} does not answer: its tools are not offered until it does (checked again within a minute)`);
    for (const system of this.#down)
      if (!down.some((d) => d.system === system)) this.log?.info({ system }, `${system} answers again: its tools are offered`);
    this.#down = new Set(down.map((d) => d.system));
    return { tools, down };
  }
}

export interface Offer {
  tools: ToolSpec[];
  down: { system: string; why: string }[];
}

function stamped(t: ToolSpec, c: Connector, ctx: ConnectorContext): ToolSpec {
  // A local system's tools read this machine only: the model must not take pve1's rpool for pve2's.
  const system = c.local ? `${c.covers}, on ${ctx.host} only (the machine this labwatch runs on; other nodes' are not read by these tools)` : c.covers;
  return { ...t, system, ...(c.start?.includes(t.name) ? { starts: true } : {}) };
}

/** The audit file's default place: systemd's state directory, else the user's. */
export function auditFile(cfg: Config): string {
  return cfg.audit.file ?? (process.env.STATE_DIRECTORY ? join(process.env.STATE_DIRECTORY, 'audit.jsonl') : join(homedir(), '.local', 'state', 'labwatch', 'audit.jsonl'));
}

/** Every diagnostic tool, over the same readers the collectors use, and the audit trail they write to. */
export function buildToolbox(
  cfg: Config,
  // The incident tools read incidents and their reports: both stores or neither.
  deps: { redis?: Redis; engine?: RuleEngine; onToolCall?: (e: AuditEntry) => void; onAuditWriteFailure?: (sink: AuditSink) => void; log?: Logger } & ({ store?: never; reports?: never } | { store: IncidentStore; reports: ReportsOf }),
): { toolbox: Toolbox; tools: ToolSpec[]; audit: Audit } {
  const engine = deps.engine;
  const quiet = deps.log ?? createLogger({ level: 'silent' });
  const parts = enabledConnectors(cfg, { host: cfg.host ?? hostname(), log: quiet, ...(engine ? { history: (s: string) => engine.history(s) } : {}) })
    // A worker watches no machine: the tools of the box it happens to run on would only mislead triage.
    .filter(({ connector }) => !(connector.local && cfg.role === 'worker'))
    .map(({ connector, ctx }) => ({ connector, ctx, tools: connector.tools?.(ctx) ?? [] }));
  const own = deps.store ? incidentTools(deps.store, deps.reports).map((t) => ({ ...t, system: "labwatch's own incidents (what it raised, their reports and triage cost)", ...(t.name === 'incidents_list' ? { starts: true } : {}) })) : [];
  if (engine) own.push({ ...networkPathsTool(engine.paths), system: "the lab's network paths (interfaces on one VLAN or named group, across every system labwatch reads, with their MTUs)" });
  const toolbox = new Toolbox(parts, own, deps.log);
  const audit = new Audit({
    file: auditFile(cfg),
    ...(deps.redis ? { redis: deps.redis, stream: redisKey(cfg.redis.prefix, 'audit'), callsKey: (id: string) => redisKey(cfg.redis.prefix, 'calls', id) } : {}),
    secrets: secretValues(cfg),
    ...(deps.onToolCall ? { onRecord: deps.onToolCall } : {}),
    ...(deps.onAuditWriteFailure ? { onWriteFailure: deps.onAuditWriteFailure } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  return { toolbox, tools: toolbox.all, audit };
}

/** labwatch's own tools plus the allowed tools of the external MCP servers in `mcp.servers`. */
export function buildHub(cfg: Config, own: ToolSpec[] | (() => Promise<ToolSpec[]>), version: string, log: Logger): McpHub {
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
export function buildProbes(cfg: Config, log: Logger): Probe[] {
  const probes = enabledConnectors(cfg, { log }).flatMap(({ connector, ctx }) => connector.probes?.(ctx) ?? []);
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

/** A notifier for every configured channel (the list in notify/channels/index.ts). */
export { buildNotifiers } from './notify/channels/index.ts';
