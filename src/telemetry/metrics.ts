/**
 * The Prometheus registry: every labwatch_ family is declared here, once, with its help text.
 * Gauges that describe state (incidents, queue depth) are read from Redis at scrape time
 * through providers that the daemon plugs in.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type StateCounts = Record<string, number>;

export class Metrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'labwatch_webhook_requests_total',
    help: 'Webhook requests by source and outcome (accepted, invalid, unauthorized, unavailable, error).',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookTruncated = new Counter({
    name: 'labwatch_webhook_truncated_total',
    help: 'Webhook label and annotation values cut to their size limit (label_value, annotation_value, name), and labels or annotations dropped beyond the per-alert count (labels, annotations), by source.',
    labelNames: ['source', 'what'] as const,
    registers: [this.registry],
  });

  readonly anomaliesReceived = new Counter({
    name: 'labwatch_anomalies_received_total',
    help: 'Anomalies taken in, by source and status (firing, resolved).',
    labelNames: ['source', 'status'] as const,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'labwatch_notifications_total',
    help: 'Notification attempts by channel and outcome (sent, failed, duplicate, gave_up).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly reports = new Counter({
    name: 'labwatch_reports_total',
    help: 'Reports produced by kind (opened, updated, resolved) and producer (deterministic, ai).',
    labelNames: ['kind', 'producer'] as const,
    registers: [this.registry],
  });

  readonly triageTokens = new Counter({
    name: 'labwatch_triage_tokens_total',
    help: 'Tokens used by AI triage, by kind (input, output, cacheRead, cacheWrite).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly triageDuration = new Histogram({
    name: 'labwatch_triage_duration_seconds',
    help: 'How long one AI triage took, model and tools included.',
    buckets: [1, 2.5, 5, 10, 20, 40, 80, 160],
    registers: [this.registry],
  });

  readonly triageCost = new Counter({
    name: 'labwatch_triage_cost_usd_total',
    help: 'US$ spent on AI triage, from the price table in config (anthropic.prices).',
    registers: [this.registry],
  });

  readonly toolCalls = new Counter({
    name: 'labwatch_tool_calls_total',
    help: 'Diagnostic tool calls by tool, caller (triage, mcp, cli) and outcome (ok, no_data, error).',
    labelNames: ['tool', 'caller', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly triageOutcome = new Counter({
    name: 'labwatch_triage_outcome_total',
    help: 'AI triage outcomes: ai (a report from Claude) or fallback (the deterministic report, with why).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly auditWriteFailures = new Counter({
    name: 'labwatch_audit_write_failures_total',
    help: 'Audit entries a sink could not keep, by sink (file, redis); the tool call and the report go on.',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly redisUp = new Gauge({
    name: 'labwatch_redis_up',
    help: '1 while every labwatch connection to Redis is ready, 0 while Redis is unreachable (or not yet reached).',
    registers: [this.registry],
  });

  #incidentStates: () => Promise<StateCounts> = async () => ({});
  #queueStates: () => Promise<Record<string, StateCounts>> = async () => ({});

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'labwatch_' });
    const self = this;
    new Gauge({
      name: 'labwatch_incidents',
      help: 'Incidents held in Redis, by state (firing, resolved).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await self.#incidentStates().catch(() => null);
        this.reset();
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'labwatch_queue_jobs',
      help: 'Jobs in each BullMQ queue, by state (waiting, active, delayed, completed, failed).',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const byQueue = await self.#queueStates().catch(() => null);
        this.reset();
        if (byQueue)
          for (const [queue, counts] of Object.entries(byQueue))
            for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      },
    });
  }

  /** Plug in the readers of state that lives in Redis (called at every scrape; errors leave the gauge empty). */
  provide(p: { incidentStates?: () => Promise<StateCounts>; queueStates?: () => Promise<Record<string, StateCounts>> }): void {
    if (p.incidentStates) this.#incidentStates = p.incidentStates;
    if (p.queueStates) this.#queueStates = p.queueStates;
  }
}
