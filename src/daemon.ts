/**
 * The composition root: builds every part from the config, starts them in order and stops them
 * in reverse. Constructors only assign; start() does the work. It names no system and no channel:
 * what exists comes from the lists (connectors/index.ts, notify/channels/index.ts) via the registry.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ledgerConnection, storeConnection, safeRedisUrl } from './util/redis.ts';
import { keysOf } from './keys.ts';
import { ms, secretValues, type Config } from './config/schema.ts';
import { buildHttpServer, isLoopback, parseListen } from './http/server.ts';
import { Intake } from './incidents/intake.ts';
import { IncidentActions } from './incidents/actions.ts';
import { ActionLinks } from './notify/action-links.ts';
import { IncidentStore } from './incidents/store.ts';
import { Circuit } from './notify/circuit.ts';
import { notifyHandler } from './notify/job.ts';
import { DeliveryLedger } from './notify/ledger.ts';
import { digestHandler } from './notify/digest-job.ts';
import { DEFAULT_ROUTES, pacing } from './notify/routes.ts';
import type { DispatchSettings } from './notify/dispatch.ts';
import { Reminders } from './notify/reminders.ts';
import { Flapping } from './notify/flapping.ts';
import { NotifyState } from './notify/state.ts';
import { announcer } from './notify/announce.ts';
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Notifier } from './notify/notifier.ts';
import { JobQueues, jobId } from './queue/index.ts';
import type { Logger } from './telemetry/log.ts';
import { Metrics } from './telemetry/metrics.ts';
import { RedisHealth } from './telemetry/redis-health.ts';
import { within } from './util/within.ts';
import { EnrichedTriager } from './triage/enrich.ts';
import { AiTriager } from './triage/agent.ts';
import { agentSettings } from './triage/settings.ts';
import { deterministicReport } from './triage/deterministic.ts';
import { redact, renderHtml, type RenderOptions } from './notify/render.ts';
import { withoutSecrets } from './triage/index.ts';
import { triageHandler } from './triage/job.ts';
import { ReportStore } from './triage/reports.ts';
import { asker } from './triage/ask.ts';
import { ConversationStore } from './triage/conversations.ts';
import { RuleEngine } from './rules/engine.ts';
import { loadRules, type RuleSet } from './rules/load.ts';
import { Watcher } from './watch/index.ts';
import type { McpHub } from './mcp/hub.ts';
import { SHIPPED_RULES, WEBHOOK_INTAKES, buildCollectors, buildHub, buildNotifiers, buildSilencers, buildToolbox } from './registry.ts';
import { dashboardApi } from './http/api/build.ts';
import { mcpHttpHandler } from './mcp/http.ts';
import { readFileSync } from 'node:fs';
import { AUDIT_SINKS } from './tools/audit.ts';

/** At start-up, how long to wait for Redis before starting anyway (webhooks answer 503 until it is there). */
const CONNECT_WAIT_MS = 5_000;
/** At shutdown, how long a part that should stop at once (HTTP, schedules, notifiers) may take before it is left behind. */
const PART_STOP_MS = 2_000;
/** The last resort: past queue.shutdown_timeout plus this, stop() gives up, naming what is still open. */
const STOP_DEADLINE_EXTRA_MS = 5_000;

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export class Daemon {
  readonly metrics = new Metrics();
  readonly redis: Redis;
  /** the delivery ledger's connection, which waits out Redis outages */
  readonly ledgerRedis: Redis;
  readonly store: IncidentStore;
  /** triage's reports and their cost */
  readonly reports: ReportStore;
  /** the dashboard's questions and answers, with their cost */
  readonly conversations: ConversationStore;
  readonly queues: JobQueues;
  readonly notifiers: Map<string, Notifier>;
  readonly intake: Intake;
  /** what people do about an incident (acknowledge, snooze…), from the dashboard, the CLI or a signed link */
  readonly actions: IncidentActions;
  readonly http;
  readonly rules: RuleEngine;
  readonly watcher: Watcher;
  readonly reminders: Reminders | undefined;
  readonly flapping: Flapping | undefined;
  /** labwatch's tools plus the external MCP servers' (triage's tool list) */
  readonly hub: McpHub;
  #digestTask: ScheduledTask | undefined;
  /** the name this node's observations carry: `host:` in the config, else the machine's */
  readonly host: string;
  /** Redis as the whole process sees it: an outage is logged once, and exported as labwatch_redis_up. */
  readonly redisHealth: RedisHealth;
  #address = '';

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.host = config.host ?? hostname();
    this.redis = storeConnection(config.redis.url);
    this.ledgerRedis = ledgerConnection(config.redis.url);
    this.redisHealth = new RedisHealth(log, safeRedisUrl(config.redis.url), (up) => this.metrics.redisUp.set(up ? 1 : 0));
    this.redisHealth.watch('store', this.redis);
    this.redisHealth.watch('ledger', this.ledgerRedis);
    const routes = config.notify.routes ?? DEFAULT_ROUTES;
    const pace = { waitMs: ms(config.notify.group_wait), intervalMs: ms(config.notify.group_interval) };
    this.store = new IncidentStore(this.redis, config.redis.prefix, ms(config.incidents.retention) / 1000, (incident) => pacing(incident, routes, pace, ms));
    this.reports = new ReportStore(this.redis, config.redis.prefix, ms(config.incidents.retention) / 1000);
    this.conversations = new ConversationStore(this.redis, config.redis.prefix, ms(config.incidents.retention) / 1000);
    // Invalid rules stop start-up here, with every problem listed (RuleLoadError).
    this.rules = new RuleEngine(this.redis, `${config.redis.prefix}`, loadRules(this.rulesDir), log, undefined, config.network.mtu_groups);
    this.queues = new JobQueues(
      { redisUrl: config.redis.url, prefix: config.redis.prefix, attempts: config.queue.attempts, backoffMs: ms(config.queue.backoff) },
      log,
      (queue, data) => {
        if (queue === 'notify') this.metrics.notifications.inc({ channel: (data as { channel: string }).channel, outcome: 'gave_up' });
      },
      this.redisHealth,
    );
    this.notifiers = buildNotifiers(config, log);
    // Series that alerts watch start at 0, so increase() sees their first step after a restart.
    for (const channel of this.notifiers.keys()) for (const outcome of ['sent', 'failed', 'gave_up', 'circuit_open']) this.metrics.notifications.inc({ channel, outcome }, 0);
    for (const { source } of WEBHOOK_INTAKES) for (const outcome of ['accepted', 'invalid', 'unauthorized', 'unavailable']) this.metrics.webhookRequests.inc({ source, outcome }, 0);
    for (const outcome of ['ai', 'fallback']) this.metrics.triageOutcome.inc({ outcome }, 0);
    for (const sink of AUDIT_SINKS) this.metrics.auditWriteFailures.inc({ sink }, 0);
    // The tools Claude may call: the same read-only set people get over MCP.
    const toolbox = buildToolbox(config, {
      redis: this.redis,
      store: this.store,
      reports: this.reports,
      engine: this.rules,
      onToolCall: (e) => this.metrics.toolCalls.inc({ tool: e.tool, caller: e.caller, outcome: e.outcome }),
      // The audit is a record, not a gate: a lost entry is counted and logged, the call goes on.
      onAuditWriteFailure: (sink) => this.metrics.auditWriteFailures.inc({ sink }),
      log,
    });
    const agent = agentSettings(config);
    // Triage is offered the tools of the systems that answer now (rechecked each minute).
    const offered = async () => (await toolbox.toolbox.offered()).tools;
    this.hub = buildHub(config, offered, VERSION, log);
    const hub = this.hub;
    // Alert text may carry a configured secret: reports are scrubbed as made (what Redis stores)
    // and the renderer scrubs again whatever else it shows (reminders, the digest, the page).
    const secrets = secretValues(config);
    const render: RenderOptions = { ...(config.notify.public_url ? { publicUrl: config.notify.public_url } : {}), secrets };
    const triager = withoutSecrets(agent
      ? new AiTriager(
          agent,
          () => hub.tools(),
          toolbox.audit,
          this.metrics,
          log,
          secrets,
        )
      : new EnrichedTriager(toolbox.tools, toolbox.audit, "AI triage is off (no Anthropic API key or anthropic.base_url configured); this report is built from the alert and labwatch's default checks."), secrets);
    const channels = [...this.notifiers.keys()];
    const dispatchSettings: DispatchSettings = {
      queues: this.queues,
      channels,
      routes,
      ...(config.notify.quiet_hours ? { quietHours: config.notify.quiet_hours } : {}),
      metrics: this.metrics,
      log,
    };
    const flap = config.notify.flapping;
    // Reminders, flapping and the digest mark: notify's state, on the store's fail-fast connection.
    const notes = new NotifyState(this.redis, config.redis.prefix, ms(config.incidents.retention) / 1000);
    // Acknowledged or snoozed incidents get no reminders (this.actions is built below, with the intake).
    const attention = (id: string) => this.actions.attention(id);
    const stores = { incidents: this.store, reports: this.reports, state: notes, attention };
    this.flapping = flap.changes > 0 ? new Flapping(stores, dispatchSettings, { windowMs: ms(flap.window), changes: flap.changes }, log) : undefined;
    // One job per incident and due time: a storm of news about one incident queues one job.
    const queueReport = (id: string, due: number) => this.queues.queueReports([{ incidentId: id, due }]);
    this.queues.handle('triage', triageHandler({ store: this.store, reports: this.reports, triager, announce: announcer({ state: notes, dispatch: dispatchSettings, attention, ...(this.flapping ? { flapping: this.flapping } : {}) }), requeue: queueReport, log, metrics: this.metrics }));
    const repeat = config.notify.repeat_interval;
    this.reminders = repeat === 'off' ? undefined : new Reminders(stores, dispatchSettings, ms(repeat), log);
    const c = config.notify.circuit;
    const circuits = new Map(channels.map((ch) => [ch, new Circuit(ch, { threshold: c.failures, cooldownMs: ms(c.cooldown), maxCooldownMs: ms(c.max_cooldown) })]));
    const ledger = new DeliveryLedger(this.ledgerRedis, config.redis.prefix, ms(config.incidents.retention) / 1000);
    // Acknowledge / Snooze links in messages (made only with notify.public_url; checked always, so sent ones keep working).
    const links = new ActionLinks(this.redis, config.redis.prefix);
    this.queues.handle('notify', notifyHandler({ reports: this.reports, ledger, notifiers: this.notifiers, circuits, ...render, links, log, metrics: this.metrics }));
    this.intake = new Intake(
      this.store,
      (reports) => this.queues.queueReports(reports),
      log,
      this.metrics,
      10_000,
      (subjects) => this.rules.groupsOf(subjects),
    );
    this.actions = new IncidentActions(this.redis, config.redis.prefix, ms(config.incidents.retention) / 1000, this.store, this.intake);
    const publicHost = config.notify.public_url ? new URL(config.notify.public_url).hostname : undefined;
    const listenHost = parseListen(config.http.listen).host;
    const dashboard = dashboardApi({
      redis: this.redis,
      prefix: config.redis.prefix,
      store: this.store,
      actions: this.actions,
      reports: this.reports,
      ledger,
      notes,
      engine: this.rules,
      audit: toolbox.audit,
      queues: this.queues,
      circuits,
      watcher: () => this.watcher,
      render,
      silencers: buildSilencers(config, log),
      ...(config.secrets.httpToken ? { token: config.secrets.httpToken } : {}),
      writable: !!config.secrets.httpToken || isLoopback(listenHost),
      ai: agent ? { enabled: true, model: agent.model, local: agent.local } : { enabled: false },
      redisUp: () => this.redisHealth.up,
      version: VERSION,
      host: this.host,
      log,
    });
    this.http = buildHttpServer({
      dashboard,
      sessions: dashboard.sessions,
      mcp: mcpHttpHandler({ tools: offered, audit: toolbox.audit, version: VERSION, writeTools: config.mcp.http_write_tools }),
      listenHost,
      ...(publicHost ? { allowedHosts: [publicHost] } : {}),
      intakes: WEBHOOK_INTAKES,
      // The ask box: the same loop and budgets as `labwatch ask`, over the tools triage is offered.
      ...(agent ? { ask: asker(agent, () => hub.tools(), toolbox.audit, secrets) } : {}),
      conversations: this.conversations,
      intake: this.intake,
      metrics: this.metrics,
      log,
      ...(config.secrets.httpToken ? { token: config.secrets.httpToken } : {}),
      bodyLimit: config.http.body_limit_bytes,
      signedLinks: { links, actions: this.actions, audit: toolbox.audit, incidentTitle: async (id) => {
        const incident = await this.store.getIncident(id);
        return incident ? redact(incident.title, secrets) : null;
      } },
      incidentPage: async (id) => {
        const incident = await this.store.getIncident(id);
        if (!incident) return null;
        const reported = await this.store.reportedRevision(id, incident.revision);
        const report = (await this.reports.getReport(id, reported)) ?? deterministicReport(incident);
        return renderHtml(report, render);
      },
      readiness: {
        redis: async () => ((await this.redis.ping()) === 'PONG' ? null : 'Redis did not answer PING'),
        // a collector runs no queue workers: it is ready once Redis answers
        workers: async () => (!this.#works || this.queues.running() ? null : 'queue workers are not running'),
      },
      // Shown by /readyz without making it 503: a daemon that still notifies is ready.
      warnings: { audit: async () => toolbox.audit.problem() },
    });
    this.metrics.provide({ incidentStates: () => this.store.countByState(), queueStates: () => this.queues.counts() });
    const host = this.host;
    // Several processes on one Redis: each run of a schedule is taken by one of them (per host for what reads the machine).
    const coordinator: RunCoordinator = {
      shouldRun: (key, ttlMs) =>
        this.redis.set(keysOf(config.redis.prefix, 'watch')('watch:run', key), host, 'PX', ttlMs, 'NX').then(
          (r) => r === 'OK',
          // Redis away: run anyway (what it read cannot be stored, and that is logged), rather than go quiet
          () => true,
        ),
    };
    this.watcher = new Watcher(buildCollectors(config, host, log, () => this.rules.rules.rules), this.rules, this.intake, log, this.metrics.registry, host, coordinator);
    const d = config.notify.digest;
    this.queues.handle('digest', digestHandler({ store: this.store, state: notes, ledger, latest: (at) => this.rules.latest(at), notifiers: this.notifiers, channels: d.channels, sendEmpty: d.send_empty, secrets, log, metrics: this.metrics }));
  }

  /**
   * Queues the digest for the period ending at `to` (to the minute). Every process may call it
   * at the scheduled time: the job id is the period, so one digest goes out.
   */
  async queueDigest(to: Date): Promise<void> {
    const end = new Date(Math.floor(to.getTime() / 60_000) * 60_000).toISOString();
    await this.queues.add('digest', { to: end }, jobId('digest', end));
  }

  get rulesDir(): string {
    return this.config.rules.dir ?? SHIPPED_RULES;
  }

  /** Re-reads the rule files (SIGHUP). A set with problems is refused and the old one keeps running. */
  reloadRules(): RuleSet | null {
    try {
      const set = loadRules(this.rulesDir);
      this.rules.replace(set);
      this.log.info({ rules: set.rules.length, files: set.files.length }, 'rules reloaded');
      return set;
    } catch (e) {
      const problems = (e as { problems?: string[] }).problems ?? [(e as Error).message];
      this.log.error({ problems }, 'new rules refused; the previous rules keep running');
      return null;
    }
  }

  /** Triage, notification, reminders and the digest run here (role all or worker). */
  get #works(): boolean {
    return this.config.role !== 'collector';
  }

  /** The address the HTTP server listens on, once started. */
  get address(): string {
    return this.#address;
  }

  async start(): Promise<void> {
    const safeUrl = safeRedisUrl(this.config.redis.url);
    try {
      // bounded: a client of Redis Sentinel keeps asking absent Sentinels rather than failing
      const connecting = this.redis.connect();
      if (!(await within(connecting, CONNECT_WAIT_MS))) throw new Error(`no answer within ${CONNECT_WAIT_MS / 1000} s`);
      await connecting; // its error, if it failed in time
    } catch (err) {
      // ioredis keeps reconnecting; the daemon runs and reports not-ready until then.
      this.log.error({ redis: safeUrl, err: (err as Error).message }, 'cannot reach Redis at start-up; retrying in the background');
    }
    // Connects in the background: its commands wait in its offline queue until it is ready.
    this.ledgerRedis.connect().catch(() => {});
    const role = this.config.role;
    // A collector only produces jobs (its intake re-queues what a blip left in the outbox); workers take them.
    if (this.#works) this.queues.start();
    this.intake.start();
    if (role !== 'worker') this.watcher.start();
    if (this.#works) this.#startWorkerSchedules();
    const { host, port } = parseListen(this.config.http.listen);
    if (!isLoopback(host) && !this.config.secrets.httpToken)
      this.log.warn({ listen: this.config.http.listen }, 'webhooks are reachable from the network without a token: anyone who can reach this port can send alerts; set http.token_file');
    this.#address = await this.http.listen({ host, port });
    this.log.info(
      { listen: this.#address, role, host: this.host, channels: [...this.notifiers.keys()], config: this.config.source },
      'labwatch is running',
    );
  }

  /** Reminders, the flapping check and the digest: a worker's (every worker may run them; each is sent once). */
  #startWorkerSchedules(): void {
    this.reminders?.start();
    this.flapping?.start();
    const d = this.config.notify.digest;
    this.#digestTask = cron.schedule(
      d.schedule,
      async (ctx) => {
        await this.queueDigest(ctx.date).catch((e: Error) => this.log.error({ err: e.message }, 'could not queue the digest; the next run will cover this period'));
      },
      // A stalled event loop or a clock stepped over the digest's time runs it late rather than skip a day
      // (node-cron's default tolerance is 1 s); the period is the job id, so it still goes out once.
      { name: 'digest', missedExecutionTolerance: 24 * 3_600_000, ...(d.timezone ? { timezone: d.timezone } : {}) },
    );
  }

  /**
   * Stops intake first, lets running jobs finish within queue.shutdown_timeout, then closes the
   * rest. Whatever is down (Redis, the mail server, an MCP server), stopping is bounded: a part
   * that does not stop in time is logged by name and left behind ("stopped" then lists it), and as
   * a last resort, past shutdown_timeout + STOP_DEADLINE_EXTRA_MS, stop() logs what is still open
   * and rejects (the CLI then exits 1).
   */
  async stop(): Promise<void> {
    this.log.info('stopping: no new webhooks; waiting for running jobs');
    const timeoutMs = ms(this.config.queue.shutdown_timeout);
    const open = new Set<string>();
    const cut: string[] = [];
    const step = async (part: string, stop: () => unknown, boundMs = PART_STOP_MS): Promise<void> => {
      open.add(part);
      const stopping = Promise.resolve()
        .then(stop)
        .catch((err: Error) => this.log.warn({ part, err: err.message }, 'error while stopping; going on'));
      if (!(await within(stopping, boundMs))) {
        cut.push(part);
        this.log.warn({ part, boundMs }, `${part} did not stop within ${boundMs} ms; going on without it`);
      }
      open.delete(part);
    };
    const sequence = async () => {
      await Promise.all([
        step('http server', () => this.http.close()),
        step('watcher', () => this.watcher.stop()),
        step('reminders', () => this.reminders?.stop()),
        step('flapping check', () => this.flapping?.stop()),
        step('digest schedule', () => this.#digestTask?.destroy()),
        step('intake', () => this.intake.stop()),
      ]);
      // Bounded inside: shutdown_timeout for running jobs, then a short grace before cutting connections.
      open.add('queues');
      cut.push(...(await this.queues.stop(timeoutMs)));
      open.delete('queues');
      // Running jobs use the tools (hub) and notifiers until the queues have stopped.
      await Promise.all([step('MCP hub', () => this.hub.close()), ...[...this.notifiers].map(([name, n]) => step(`notifier ${name}`, () => n.close()))]);
      // QUIT fails at once while Redis is away (no offline queue); the socket is closed either way.
      await step('Redis connection', () => this.redis.quit().catch(() => {}), 1_000);
      await step('ledger connection', () => this.ledgerRedis.quit().catch(() => {}), 1_000);
      this.ledgerRedis.disconnect();
      this.redis.disconnect();
    };
    const deadlineMs = timeoutMs + STOP_DEADLINE_EXTRA_MS;
    if (!(await within(sequence(), deadlineMs))) {
      const still = [...open, ...cut];
      this.log.error({ deadlineMs, open: still }, `shutdown did not finish within ${deadlineMs} ms; exiting with ${still.join(', ') || 'parts'} still open`);
      this.redis.disconnect();
      throw new Error(`shutdown did not finish within ${deadlineMs} ms (${still.join(', ')} still open)`);
    }
    this.log.info(cut.length ? { notClosed: cut } : {}, 'stopped');
  }
}
