/**
 * Watching: each collector runs on its cron schedule (node-cron, no overlap, a timeout, a little
 * random delay so several hosts don't poll at once); its observations go through the rules and
 * the resulting anomalies into the same intake as webhooks. A failing collector is logged and
 * counted, and reported as an observation of its own so a rule can raise it; it never stops the
 * schedule or the daemon.
 */
import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Anomaly } from '../connectors/types.ts';
import type { RuleEngine, ObserveResult } from '../rules/engine.ts';
import type { Scheduled } from '../connectors/types.ts';
import type { Observation } from '../rules/observation.ts';
import type { Logger } from '../telemetry/log.ts';

export type { Collector, Scheduled } from '../connectors/types.ts';

/** Where the anomalies the rules raise go: the incidents' intake, the same one webhooks feed. */
export interface AnomalySink {
  accept(anomalies: Anomaly[], opts: { grouped: boolean }): Promise<unknown>;
}

export interface RunResult extends ObserveResult {
  observations: Observation[];
  error?: string;
}

export class Watcher {
  readonly #tasks: ScheduledTask[] = [];
  readonly #runs: Counter<'collector' | 'outcome'>;
  readonly #duration: Histogram<'collector'>;
  readonly #observed: Gauge<'source' | 'kind' | 'subject' | 'key'>;
  /** each collector's previous run by the wall and the monotonic clock: their difference is a clock step */
  readonly #clock = new Map<string, { wall: number; mono: number }>();
  /** each collector's last run in this process, for the dashboard's status */
  readonly #last = new Map<string, { at: string; ok: boolean; error: string; observations: number }>();

  constructor(
    private readonly scheduled: Scheduled[],
    private readonly engine: RuleEngine,
    private readonly intake: AnomalySink,
    private readonly log: Logger,
    registry: Registry,
    private readonly host: string,
    /**
     * Elects one process per scheduled run when several share a Redis: a collector of the machine
     * (`local`) once per host, one that reads the lab's APIs once for the whole lab.
     */
    private readonly coordinator?: RunCoordinator,
    /** the wall and monotonic clocks (tests step the wall one) */
    private readonly clock: { wall: () => number; mono: () => number } = { wall: Date.now, mono: () => performance.now() },
  ) {
    this.#runs = new Counter({ name: 'labwatch_collector_runs_total', help: 'Collector runs by outcome (ok, error, timeout).', labelNames: ['collector', 'outcome'], registers: [registry] });
    this.#duration = new Histogram({ name: 'labwatch_collector_duration_seconds', help: 'How long a collector run took, rules included.', labelNames: ['collector'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] });
    for (const s of scheduled) for (const outcome of ['ok', 'error', 'timeout']) this.#runs.inc({ collector: s.collector.name, outcome }, 0);
    this.#observed = new Gauge({ name: 'labwatch_observed', help: 'The latest numeric value labwatch observed per subject (temperature, sectors, errors, capacity…).', labelNames: ['source', 'kind', 'subject', 'key'], registers: [registry] });
  }

  /** Runs one collector now: collect, evaluate rules, hand anomalies to the intake (unless dryRun). */
  async run(name: string, opts: { dryRun?: boolean; now?: Date } = {}): Promise<RunResult> {
    const s = this.scheduled.find((x) => x.collector.name === name);
    if (!s) throw new Error(`watch: no collector named ${name}; known: ${this.scheduled.map((x) => x.collector.name).join(', ')}`);
    const end = this.#duration.startTimer({ collector: name });
    const signal = AbortSignal.timeout(s.timeoutMs);
    let observations: Observation[];
    let error: string | undefined;
    try {
      observations = await s.collector.collect(signal);
      // A clock the caller controls (tests replaying days of polls in seconds).
      if (opts.now) observations = observations.map((o) => ({ ...o, at: opts.now!.toISOString() }));
      // What this machine read of itself: its pools, filesystems and interfaces are its own.
      if (s.local) observations = observations.map((o) => ({ ...o, local: true }));
      const step = this.#clockStep(name);
      if (step !== undefined) observations = observations.map((o) => ({ ...o, clockStepMs: step }));
    } catch (e) {
      error = signal.aborted ? `timed out after ${s.timeoutMs} ms` : (e as Error).message;
      this.#runs.inc({ collector: name, outcome: signal.aborted ? 'timeout' : 'error' });
      this.log.error({ collector: name, err: error }, 'collector failed');
      observations = [];
    }
    // The collector's own health is an observation too, so a rule can raise "labwatch cannot read X".
    observations.push({
      source: name,
      kind: 'collector',
      subject: `collector:${name}`,
      // what reads this machine is this host's; a lab API's reader is the lab's, whichever process ran it
      host: s.local ? this.host : 'lab',
      at: (opts.now ?? new Date()).toISOString(),
      values: { ok: error === undefined, error: error ?? '', observations: observations.length },
      ...(s.local ? { local: true } : {}),
    });
    const result = await this.engine.observe(observations, { ...(opts.now ? { now: opts.now } : {}), ...(opts.dryRun ? { dryRun: true } : {}) });
    if (!opts.dryRun) {
      for (const o of observations)
        for (const [key, v] of Object.entries(o.values))
          if (typeof v === 'number' && Number.isFinite(v)) this.#observed.set({ source: o.source, kind: o.kind, subject: o.subject, key }, v);
      if (result.anomalies.length) await this.intake.accept(result.anomalies, { grouped: true });
    }
    if (!error) this.#runs.inc({ collector: name, outcome: 'ok' });
    if (!opts.dryRun) this.#last.set(name, { at: new Date().toISOString(), ok: error === undefined, error: error ?? '', observations: observations.length - 1 });
    end();
    return { ...result, observations, ...(error ? { error } : {}) };
  }

  /** How far the wall clock jumped since this collector's previous run here, beyond the time that passed (≥ 1 s), else undefined. */
  #clockStep(name: string): number | undefined {
    const now = { wall: this.clock.wall(), mono: this.clock.mono() };
    const before = this.#clock.get(name);
    this.#clock.set(name, now);
    if (!before) return undefined;
    const step = now.wall - before.wall - (now.mono - before.mono);
    if (Math.abs(step) < 1_000) return undefined;
    this.log.warn({ collector: name, stepMs: Math.round(step) }, 'the wall clock jumped since the last run; rules do not count the jump as time held');
    return Math.round(step);
  }

  /** Every scheduled collector with its last run here (none yet: at is empty). */
  lastRuns(): { name: string; at: string; ok: boolean; error: string; observations: number }[] {
    return this.scheduled.map((s) => ({ name: s.collector.name, ...(this.#last.get(s.collector.name) ?? { at: '', ok: true, error: '', observations: 0 }) }));
  }

  start(): void {
    // node-cron writes its own warnings to the console; route them into labwatch's log.
    cron.setLogger({
      info: (m: string) => this.log.debug({ source: 'node-cron' }, m),
      warn: (m: string) => this.log.debug({ source: 'node-cron' }, m),
      error: (m: string | Error) => this.log.warn({ source: 'node-cron' }, String(m)),
      debug: (m: string) => this.log.debug({ source: 'node-cron' }, m),
    } as Parameters<typeof cron.setLogger>[0]);
    for (const s of this.scheduled) {
      const task = cron.schedule(
        s.schedule,
        async () => {
          if (s.jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * s.jitterMs));
          await this.run(s.collector.name).catch((e: Error) => this.log.error({ collector: s.collector.name, err: e.message }, 'watch run failed; next run as scheduled'));
        },
        {
          // the coordination key: `watch:<host>:<collector>` for what reads this machine,
          // `watch:lab:<collector>:<system>` for a lab API (each system it reads is shared apart)
          name: s.local ? `watch:${this.host}:${s.collector.name}` : `watch:lab:${s.collector.name}${s.target ? `:${s.target}` : ''}`,
          noOverlap: true,
          // a run reached late (a busy event loop, a clock step) still runs, rather than being skipped
          missedExecutionTolerance: 60_000,
          // the lease only keeps the record of who took a run; each run has a key of its own
          ...(this.coordinator ? { distributed: true, runCoordinator: this.coordinator, distributedLease: Math.max(s.timeoutMs, 10 * 60_000) } : {}),
        },
      );
      task.on('execution:skipped', () => {
        this.log.debug({ collector: s.collector.name, scope: s.local ? this.host : 'lab' }, 'another labwatch process took this run');
      });
      task.on('execution:overlap', () => {
        this.log.warn({ collector: s.collector.name }, 'previous run still going; this run skipped');
      });
      this.#tasks.push(task);
      this.log.info({ collector: s.collector.name, schedule: s.schedule }, 'watching');
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#tasks.splice(0)) await t.destroy();
  }
}
