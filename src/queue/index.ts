/**
 * BullMQ queues and workers, their options in one place. Handlers are declared beside their
 * logic (triage/job.ts, notify/job.ts) and registered here; start() refuses to run a queue that
 * has no handler. Job ids are derived from content by the caller, so adding the same work twice
 * is a no-op while the first job is kept.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { redisClient } from '../util/redis.ts';
import { keysOf } from '../keys.ts';
import type { Logger } from '../telemetry/log.ts';
import { isConnectionError, type RedisHealth } from '../telemetry/redis-health.ts';
import { within } from '../util/within.ts';

const QUEUE_NAMES = ['triage', 'notify', 'digest'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface TriageJob {
  incidentId: string;
  /** when the report was due (ms); also in the job id, so one job is queued per due time */
  due?: number;
  /** only in jobs queued before reports were paced: one job per revision */
  revision?: number;
}
export interface NotifyJob {
  incidentId: string;
  revision: number;
  channel: string;
  /** set for an extra message about the revision: "again1" (a reminder), "flapping" */
  variant?: string;
}
export interface DigestJob {
  /** the end of the period (ISO, to the minute): also the job id, so a period is sent once */
  to: string;
}
export interface JobData {
  triage: TriageJob;
  notify: NotifyJob;
  digest: DigestJob;
}

export interface JobContext {
  id: string;
  /** Attempts already made before this one. */
  attemptsMade: number;
  attempts: number;
  /**
   * Puts the job back for `ms` without counting an attempt (e.g. while a channel's circuit is
   * open). The handler must `throw` what this returns.
   */
  postpone(ms: number): Promise<Error>;
}

export type Handler<N extends QueueName> = (data: JobData[N], ctx: JobContext) => Promise<void>;

export interface QueueSettings {
  redisUrl: string;
  prefix: string;
  attempts: number;
  backoffMs: number;
  concurrency?: Partial<Record<QueueName, number>>;
}

/**
 * Job locks. A worker holds a lock on each running job and renews it every LOCK_MS / 2 while its
 * process lives, so a long triage keeps its job. When the process dies (SIGKILL, power loss) the
 * lock expires within LOCK_MS and the next stalled check, every STALLED_CHECK_MS on any live
 * worker, puts the job back: another process resumes it within about LOCK_MS + STALLED_CHECK_MS
 * (BullMQ's defaults, 30 s and 30 s, took up to a minute). Every worker must use the same values:
 * the stalled check's interval is a queue-wide key set by whichever worker ran it last.
 */
const LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;
/** At shutdown, how long a worker whose jobs are done may take to close before its connection is cut. */
const CLOSE_GRACE_MS = 2_000;
/** How long closing a queue or a connection may take at shutdown. */
const QUIT_MS = 1_000;

/** Marks a failure that retrying cannot fix: the job fails at once and is kept for inspection. */
export { UnrecoverableError as FinalError };

/** BullMQ forbids ':' in custom ids and ids that are integers. */
export function jobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/:/g, '_')).join('|');
}

export class JobQueues {
  readonly #queues = new Map<QueueName, Queue>();
  readonly #workers = new Map<QueueName, Worker>();
  readonly #handlers = new Map<QueueName, Handler<QueueName>>();
  readonly #producer: Redis;
  /** Connections we gave to workers: BullMQ does not close connections it did not create. */
  readonly #workerConnections = new Map<QueueName, Redis>();
  readonly #options: JobsOptions;
  #started = false;
  /** handlers running now, and who waits for them all to finish (shutdown) */
  #running = 0;
  #idle: (() => void)[] = [];

  constructor(
    private readonly settings: QueueSettings,
    private readonly log: Logger,
    /** Called when a job has failed for good (attempts exhausted or a final error). */
    private readonly onGaveUp: (queue: QueueName, data: unknown, err: Error) => void = () => {},
    /** Told about every connection, so an outage is logged once for the whole process. */
    private readonly health?: RedisHealth,
  ) {
    // Producers fail fast while Redis is away (callers keep the work in the outbox); workers wait.
    this.#producer = redisClient(settings.redisUrl, this.#redisOptions({ enableOfflineQueue: false, maxRetriesPerRequest: 1 }));
    this.#producer.on('error', () => {}); // an outage is logged once, by `health`
    health?.watch('queue producer', this.#producer);
    this.#options = {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs },
      removeOnComplete: { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 14 * 24 * 3600, count: 5000 },
    };
    for (const name of QUEUE_NAMES) {
      const q = new Queue(name, { connection: this.#producer, prefix: keysOf(settings.prefix, 'queue')('q'), defaultJobOptions: this.#options });
      q.on('error', () => {});
      this.#queues.set(name, q);
    }
  }

  #redisOptions(extra: RedisOptions): RedisOptions {
    return { connectionName: 'labwatch', ...extra };
  }

  handle<N extends QueueName>(name: N, handler: Handler<N>): void {
    if (this.#handlers.has(name)) throw new Error(`queue: "${name}" already has a handler`);
    this.#handlers.set(name, handler as unknown as Handler<QueueName>);
  }

  /** Adds a job (no-op if one with this id is kept); `delayMs` holds it back, surviving restarts. */
  async add<N extends QueueName>(name: N, data: JobData[N], id: string, delayMs = 0): Promise<void> {
    await this.#queues.get(name)!.add(name, data, { jobId: id, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  /**
   * Queues incidents' reports, one triage job per incident and due time (`triage|<id>|<due>`, or
   * `…|late<minute>` for one long overdue), all in one round trip; each is held back until it is
   * due. A job whose due time was brought forward (`replaced`) is removed.
   */
  async queueReports(reports: readonly { incidentId: string; due: number; replaced?: number; late?: number }[]): Promise<void> {
    if (reports.length === 0) return;
    const now = Date.now();
    await this.#queues.get('triage')!.addBulk(
      reports.map(({ incidentId, due, late }) => ({
        name: 'triage',
        data: { incidentId, due },
        opts: { jobId: late === undefined ? jobId('triage', incidentId, due) : jobId('triage', incidentId, due, `late${late}`), ...(due > now ? { delay: due - now } : {}) },
      })),
    );
    for (const { incidentId, replaced } of reports) if (replaced) await this.remove('triage', jobId('triage', incidentId, replaced));
  }

  /** Removes a job that is no longer needed, unless it is running (then it finds nothing to do). */
  async remove(name: QueueName, id: string): Promise<void> {
    await this.#queues.get(name)!.remove(id).catch(() => 0);
  }

  /** Jobs waiting for a time (quiet hours, postponed deliveries), for tests and the dashboard. */
  async delayed(name: QueueName): Promise<{ id: string; data: unknown; runAt: number }[]> {
    const jobs = await this.#queues.get(name)!.getDelayed();
    return jobs.map((j) => ({ id: j.id ?? '', data: j.data, runAt: j.timestamp + (j.opts.delay ?? 0) }));
  }

  /** Runs a delayed job now (the window it waited for is over). */
  async promote(name: QueueName, id: string): Promise<void> {
    const job = await this.#queues.get(name)!.getJob(id);
    await job?.promote();
  }

  start(): void {
    const missing = QUEUE_NAMES.filter((n) => !this.#handlers.has(n));
    if (missing.length) throw new Error(`queue: no handler registered for ${missing.join(', ')}; register one in daemon.ts`);
    for (const name of QUEUE_NAMES) {
      const handler = this.#handlers.get(name)!;
      const connection = redisClient(this.settings.redisUrl, this.#redisOptions({ maxRetriesPerRequest: null }));
      connection.on('error', () => {}); // an outage is logged once, by `health`
      this.health?.watch(`${name} worker`, connection);
      this.#workerConnections.set(name, connection);
      const worker = new Worker(
        name,
        async (job: Job, token?: string) => {
          this.#running++;
          try {
            return await handler(job.data, {
              id: job.id ?? '?',
              attemptsMade: job.attemptsMade,
              attempts: job.opts.attempts ?? 1,
              postpone: async (ms) => {
                await job.moveToDelayed(Date.now() + ms, token);
                return new DelayedError();
              },
            });
          } finally {
            if (--this.#running === 0) for (const wake of this.#idle.splice(0)) wake();
          }
        },
        {
          connection,
          prefix: keysOf(this.settings.prefix, 'queue')('q'),
          concurrency: this.settings.concurrency?.[name] ?? 4,
          autorun: true,
          lockDuration: LOCK_MS,
          stalledInterval: STALLED_CHECK_MS,
        },
      );
      // An unhandled 'error' event would crash the process. Connection errors are the outage that
      // `health` logs once (BullMQ repeats them for every worker and reconnect attempt).
      worker.on('error', (err) => {
        if (isConnectionError(err) || (this.health && !this.health.up)) this.log.debug({ queue: name, err: err.message }, 'queue worker: Redis connection error');
        else this.log.warn({ queue: name, err: err.message }, 'queue worker error (it keeps retrying)');
      });
      worker.on('failed', (job, err) => {
        if (!job) return;
        const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
        const fields = { queue: name, job: job.id, attempt: job.attemptsMade, err: err.message, ...job.data };
        if (final) {
          this.log.error(fields, 'job failed for good; it is kept in the failed set for inspection');
          this.onGaveUp(name, job.data, err);
        } else this.log.warn(fields, 'job failed; it will be retried with backoff');
      });
      this.#workers.set(name, worker);
    }
    this.#started = true;
  }

  /** True when every worker is running (for /readyz). */
  running(): boolean {
    return this.#started && [...this.#workers.values()].every((w) => w.isRunning());
  }

  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, q] of this.#queues) {
      out[name] = (await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized')) as Record<string, number>;
    }
    return out;
  }

  /**
   * Stops taking jobs, waits up to `timeoutMs` for running ones, then closes. Bounded whatever is
   * down: a worker that cannot close has its connection cut after CLOSE_GRACE_MS. (While Redis is
   * away, BullMQ's close() waits for its blocking connection to end, and ioredis never ends a
   * connection disconnected while it waits to reconnect; close(true) after close() only returns
   * the same pending promise.) Unfinished jobs run again, here after a restart or on another
   * process, once their lock expires. Returns what had to be cut, for the log.
   */
  async stop(timeoutMs: number): Promise<string[]> {
    const cut: string[] = [];
    const workers = [...this.#workers];
    this.#workers.clear();
    const closing = workers.map(([name, w]) => ({ name, closed: w.close().catch(() => {}) }));
    const idle = this.#running === 0 ? Promise.resolve() : new Promise<void>((r) => this.#idle.push(r));
    if (!(await within(idle, timeoutMs))) {
      this.log.warn({ timeoutMs, running: this.#running }, 'jobs still running at shutdown; they will be picked up again after restart');
    }
    const done = await Promise.all(closing.map(async (c) => ({ name: c.name, ok: await within(c.closed, CLOSE_GRACE_MS) })));
    const stuck = done.filter((d) => !d.ok).map((d) => d.name);
    if (stuck.length) {
      const why = this.health && !this.health.up ? 'Redis is unreachable' : 'a job or a Redis command did not finish';
      this.log.warn({ queues: stuck, graceMs: CLOSE_GRACE_MS }, `queue workers did not close (${why}); cutting their connections`);
      cut.push(...stuck.map((n) => `${n} worker`));
    }
    // QUIT waits for Redis to answer; past QUIT_MS, or when it fails, the socket is simply closed.
    const quit = async (c: Redis) => {
      let ok = false;
      if (await within(c.quit().then(() => (ok = true)), QUIT_MS) && ok) return;
      c.disconnect();
    };
    // A worker stuck in close() never reaches the step that stops its lock-renewal timer, which
    // would keep the process alive after the cut (seen after Redis restarted under a blocking
    // read). LockManager is protected in BullMQ's types; its close() only clears that timer.
    for (const [name, w] of workers)
      if (stuck.includes(name)) await (w as unknown as { lockManager?: { close(): Promise<void> } }).lockManager?.close().catch(() => {});
    await Promise.all([
      ...[...this.#workerConnections].map(([name, c]) => (stuck.includes(name) ? c.disconnect() : quit(c))),
      ...[...this.#queues.values()].map((q) => within(q.close(), QUIT_MS)),
    ]);
    this.#workerConnections.clear();
    await quit(this.#producer);
    this.#started = false;
    return cut;
  }
}
