/**
 * The configuration file's schema: one zod object per block, defaults inside, TypeScript types
 * inferred. The keys here are a public contract: add keys, never rename them.
 *
 * Secrets never appear inline: each has a `*_file` key (read at load) and an environment
 * variable (see `secretSources` in load.ts), so a config file can be shared without leaking.
 */
import * as z from 'zod';
import { CONNECTORS } from '../connectors/index.ts';
import { CHANNELS, configuredChannels } from '../notify/channels/index.ts';
import { routeSchema } from '../notify/routes.ts';
import { anthropicConfig } from '../triage/config.ts';
import { duration, type SecretSpec } from './parts.ts';
import { redisPassword, sentinelOptions } from '../util/redis.ts';

const redisConfig = z
  .strictObject({
    /** redis://[:password@]host:port[/db], rediss:// for TLS, or redis+sentinel://[:password@]host:26379[,host:26379…]/<master>[/db] for Redis Sentinel */
    url: z
      .string()
      .regex(/^(rediss?|redis\+sentinel):\/\//, 'a redis://, rediss:// or redis+sentinel:// URL')
      .superRefine((url, ctx) => {
        try {
          sentinelOptions(url);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .default('redis://127.0.0.1:6379'),
    /** Every key labwatch writes starts with this, so several instances can share one Redis. */
    prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" or "-"').default('labwatch'),
  })
  .prefault({});

const httpConfig = z
  .strictObject({
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'host:port, e.g. "127.0.0.1:9877" or "[::1]:9877"')
      .default('127.0.0.1:9877'),
    /** File holding the bearer token that /webhook/* and /mcp require. */
    token_file: z.string().optional(),
    /** Largest accepted request body; Alertmanager storms of ~1000 alerts stay under 2 MiB. */
    body_limit_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  })
  .prefault({});

/**
 * Every channel a route or the digest names must be configured: a typo would otherwise silently
 * drop what it routes. The error points at the name and lists what is configured.
 */
function knownChannels(n: { routes?: { channels: string[] }[] | undefined; digest: { channels?: string[] | undefined } }, ctx: z.core.$RefinementCtx): void {
  const configured = configuredChannels(n);
  const known = CHANNELS.map((c) => c.name);
  const problem = (name: string) =>
    `a configured channel; ${known.includes(name) ? `"${name}" has no notify.${name} block` : `labwatch has no channel "${name}" (it knows ${known.join(', ')})`} ` +
    `(configured: ${configured.length ? configured.join(', ') : 'none, so reports go to the log'})`;
  n.routes?.forEach((r, i) => r.channels.forEach((name, j) => configured.includes(name) || ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels', j], message: problem(name) })));
  n.digest.channels?.forEach((name, j) => configured.includes(name) || ctx.addIssue({ code: 'custom', path: ['digest', 'channels', j], message: problem(name) }));
}

const notifyConfig = z
  .strictObject({
    /** each channel's own block (`email:`, `ntfy:`, `gotify:` …), from the list; absent means not configured */
    ...Object.fromEntries(CHANNELS.map((c) => [c.name, c.config.optional()])),
    /** Link target for "open in labwatch" in messages; defaults to the HTTP listen address. */
    public_url: z.string().url().optional(),
    /** Who hears about what, and when; default: every configured channel, critical at once, warning at once or in the digest as each channel declares (email: digest), info in the digest. */
    routes: z.array(routeSchema).optional(),
    digest: z
      .strictObject({
        schedule: z.string().regex(/^(\S+\s+){4,5}\S+$/, 'a cron expression, e.g. "0 8 * * *"').default('0 8 * * *'),
        /** IANA zone for the schedule, e.g. Europe/Berlin; default: the system's */
        timezone: z.string().optional(),
        /** default: every configured channel */
        channels: z.array(z.string()).optional(),
        /** send a digest even when nothing happened (the health overview alone) */
        send_empty: z.boolean().default(false),
      })
      .prefault({}),
    /** Collect this long after an incident opens before its first report (Alertmanager's group_wait). */
    group_wait: duration.default('10s'),
    /** At most one update per incident per interval, carrying everything that changed (Alertmanager's group_interval). */
    group_interval: duration.default('5m'),
    /** An incident still open is announced again after this long (with what changed); "off" never. */
    repeat_interval: z.union([duration, z.literal('off')]).default('24h'),
    /** A group changing state this often within the window is flapping: one notice, then quiet until it settles. */
    flapping: z
      .strictObject({
        window: duration.default('15m'),
        /** 0 turns flap detection off */
        changes: z.number().int().min(0).max(100).default(4),
      })
      .prefault({}),
    /** Non-critical messages wait for the end of this window (mode delay) or go to the digest. */
    quiet_hours: z
      .strictObject({
        start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, "22:00"'),
        end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, "07:00"'),
        timezone: z.string().optional(),
        mode: z.enum(['delay', 'digest']).default('delay'),
      })
      .optional(),
    /** After this many failures in a row a channel is paused (its messages wait, none are dropped). */
    circuit: z
      .strictObject({
        failures: z.number().int().min(1).max(100).default(5),
        cooldown: duration.default('1m'),
        max_cooldown: duration.default('30m'),
      })
      .prefault({}),
  })
  .superRefine(knownChannels)
  .transform((n) => ({ ...n, digest: { ...n.digest, channels: n.digest.channels ?? configuredChannels(n) } }))
  .prefault({});

const queueConfig = z
  .strictObject({
    /** Attempts per job before it is kept as failed for inspection. */
    attempts: z.number().int().min(1).max(100).default(10),
    /** First retry delay; each later one doubles (exponential backoff). */
    backoff: duration.default('5s'),
    /** How long shutdown waits for running jobs before it gives up on them (they are retried later). */
    shutdown_timeout: duration.default('20s'),
  })
  .prefault({});

const incidentsConfig = z
  .strictObject({
    /** How long a resolved incident, its reports and delivery records stay in Redis. */
    retention: duration.default('30d'),
  })
  .prefault({});

/** One `watch.<name>` block per connector that polls, from the list; `jitter` is shared. */
const watchConfig = z
  .strictObject({
    ...Object.fromEntries(CONNECTORS.flatMap((c) => (c.watch ? [[c.name, c.watch]] : []))),
    /** up to this much random delay before each run, so several hosts don't poll at once */
    jitter: duration.default('20s'),
  })
  .prefault({});

const rulesConfig = z
  .strictObject({
    /** a folder of rule files; default: the rules/ shipped with labwatch */
    dir: z.string().optional(),
  })
  .prefault({});

const auditConfig = z
  .strictObject({
    /** JSONL file of every tool call; default: $STATE_DIRECTORY/audit.jsonl under systemd, else ~/.local/state/labwatch/audit.jsonl */
    file: z.string().optional(),
  })
  .prefault({});

const logConfig = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .prefault({});

const serverName = z.string().regex(/^[a-z][a-z0-9_]{0,19}$/, 'a short name: a lowercase letter, then letters, digits or "_" (up to 20)');

/**
 * An external MCP server whose tools triage and `labwatch ask` may call: started as a child
 * (stdio: command) or reached over streamable HTTP (url). Only the tools named in `tools` are
 * offered to the model, as `<name>__<tool>`.
 */
const mcpServerConfig = z
  .strictObject({
    name: serverName,
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /** environment variables whose values are secrets, each read from a file: { GITHUB_TOKEN: /etc/labwatch/gh-token } */
    env_files: z.record(z.string(), z.string()).default({}),
    url: z.string().url().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** headers whose values are secrets, each read from a file: { Authorization: /etc/labwatch/grafana-mcp-auth } */
    header_files: z.record(z.string(), z.string()).default({}),
    /** the allow-list: only these tools are offered (names as the server lists them) */
    tools: z.array(z.string().min(1)).min(1, 'name the tools to allow; none are offered by default'),
    /** per call, and for connecting */
    timeout: duration.default('30s'),
  })
  .refine((s) => (s.command === undefined) !== (s.url === undefined), { message: 'either command (stdio) or url (streamable HTTP), not both' });

const mcpConfig = z
  .strictObject({
    servers: z
      .array(mcpServerConfig)
      .default([])
      .refine((list) => new Set(list.map((s) => s.name)).size === list.length, { message: 'a unique name for each server' }),
    /**
     * Serve tools that change something (e.g. alertmanager_create_silence, when enabled) at POST /mcp.
     * Off: over HTTP they are neither listed nor callable, as nobody there confirms them. stdio is unaffected.
     */
    http_write_tools: z.boolean().default(false),
  })
  .prefault({});

/** The lab's network paths: interfaces that carry one network and must share an MTU, as host:interface. */
const networkConfig = z
  .strictObject({
    /** e.g. { storage: ["pve1:vmbr1.20", "nas:enp3s0", "fw:vlan20"] }; without it, interfaces on the same VLAN id form a path */
    mtu_groups: z.record(z.string().regex(/^[\w.-]+$/, 'a short name such as "storage"'), z.array(z.string().regex(/^[^:\s]+:[^:\s]+$/, 'host:interface, such as "nas:enp3s0"')).min(2)).default({}),
  })
  .prefault({});

/** What one labwatch process does when several share a Redis (see README "Several nodes, one Redis"). */
const ROLES = ['all', 'collector', 'worker'] as const;
type Role = (typeof ROLES)[number];

export const configSchema = z.strictObject({
  /** The name this node's observations carry (its drives, pools, filesystems, interfaces); default: the machine's hostname. */
  host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a host name: letters, digits, ".", "_" or "-" (up to 63)').optional(),
  /** all: everything; collector: watches this host and takes webhooks, no triage or notification; worker: triages and notifies, watches nothing. */
  role: z.enum(ROLES).default('all'),
  redis: redisConfig,
  http: httpConfig,
  notify: notifyConfig,
  anthropic: anthropicConfig,
  queue: queueConfig,
  incidents: incidentsConfig,
  watch: watchConfig,
  network: networkConfig,
  rules: rulesConfig,
  audit: auditConfig,
  mcp: mcpConfig,
  log: logConfig,
  /** each connector's own block (`prometheus:`, `alertmanager:` …), optional: absent means not configured */
  ...Object.fromEntries(CONNECTORS.flatMap((c) => (c.config ? [[c.name, c.config.optional()]] : []))),
});

export type FileConfig = z.infer<typeof configSchema>;

/** Secrets resolved at load time, kept apart from the config so that logging the config is safe. */
export interface Secrets {
  httpToken?: string;
  anthropicApiKey?: string;
  /**
   * Every declared secret that was set, by block ("prometheus", "notify.ntfy", "http") and then by
   * the `file` key that declared it ("bearer_token_file", "basic_auth.password_file").
   */
  blocks?: Record<string, Record<string, string>>;
  /** per external MCP server: the env and header values read from its *_files */
  mcp?: Record<string, { env: Record<string, string>; headers: Record<string, string> }>;
}

/** Every block that declares secrets: the core's, each connector's and each channel's, from the lists. */
export function secretBlocks(): { path: string[]; secrets: SecretSpec[] }[] {
  return [
    { path: ['http'], secrets: [{ file: 'token_file', env: 'LABWATCH_HTTP_TOKEN' }] },
    { path: ['anthropic'], secrets: [{ file: 'api_key_file', env: 'ANTHROPIC_API_KEY' }] },
    ...CHANNELS.flatMap((c) => (c.secrets?.length ? [{ path: ['notify', c.name], secrets: c.secrets }] : [])),
    ...CONNECTORS.flatMap((c) => (c.secrets?.length ? [{ path: [c.name], secrets: c.secrets }] : [])),
  ];
}

/** The secrets read for one block ("prometheus", "notify.ntfy"), by the `file` key that declared each. */
export function blockSecrets(cfg: { secrets: Secrets }, block: string): Record<string, string> {
  return cfg.secrets.blocks?.[block] ?? {};
}

/**
 * Every secret value, for the scrubbers that keep them out of logs, prompts and reports: the
 * secrets read from files and environment, and the password inside the Redis URL (also when it
 * turns up bare, outside a URL).
 */
export function secretValues(cfg: { secrets: Secrets; redis?: { url: string } }): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(cfg.secrets);
  if (cfg.redis) {
    const password = redisPassword(cfg.redis.url);
    // as written in the URL (percent-encoded) and as sent
    if (password) {
      out.push(password);
      try {
        out.push(decodeURIComponent(password));
      } catch {
        /* not percent-encoding: the schema refuses a Sentinel URL like it; ioredis sends it as written */
      }
    }
  }
  return [...new Set(out)];
}

export interface Config extends FileConfig {
  /** Where the config came from, for messages ("defaults" when no file was given). */
  source: string;
  secrets: Secrets;
}

export { ms } from './parts.ts';
