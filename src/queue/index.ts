/**
 * BullMQ queues and workers, their options in one place. Handlers are declared beside their
 * logic (triage/job.ts, notify/job.ts) and registered here; start() refuses to run a queue that
 * has no handler. Job ids are derived from content by the caller, so adding the same work twice
 * is a no-op while the first job is kept.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../telemetry/log.ts';

export const QUEUE_NAMES = ['triage', 'notify', 'digest'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface TriageJob {
  incidentId: string;
  revision: number;
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
  readonly #workerConnections: Redis[] = [];
  readonly #options: JobsOptions;
  #started = false;

  constructor(
    private readonly settings: QueueSettings,
    private readonly log: Logger,
    /** Called when a job has failed for good (attempts exhausted or a final error). */
    private readonly onGaveUp: (queue: QueueName, data: unknown, err: Error) => void = () => {},
  ) {
    // Producers fail fast while Redis is away (callers keep the work in the outbox); workers wait.
    this.#producer = new Redis(settings.redisUrl, this.#redisOptions({ enableOfflineQueue: false, maxRetriesPerRequest: 1 }));
    this.#producer.on('error', () => {}); // reported by the store's connection and /readyz
    this.#options = {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs },
      removeOnComplete: { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 14 * 24 * 3600, count: 5000 },
    };
    for (const name of QUEUE_NAMES) {
      const q = new Queue(name, { connection: this.#producer, prefix: `${settings.prefix}:q`, defaultJobOptions: this.#options });
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
      const connection = new Redis(this.settings.redisUrl, this.#redisOptions({ maxRetriesPerRequest: null }));
      connection.on('error', () => {}); // surfaced through the worker's 'error' event below
      this.#workerConnections.push(connection);
      const worker = new Worker(
        name,
        async (job: Job, token?: string) =>
          handler(job.data, {
            id: job.id ?? '?',
            attemptsMade: job.attemptsMade,
            attempts: job.opts.attempts ?? 1,
            postpone: async (ms) => {
              await job.moveToDelayed(Date.now() + ms, token);
              return new DelayedError();
            },
          }),
        {
          connection,
          prefix: `${this.settings.prefix}:q`,
          concurrency: this.settings.concurrency?.[name] ?? 4,
          autorun: true,
        },
      );
      // An unhandled 'error' event would crash the process; Redis outages surface here.
      worker.on('error', (err) => this.log.warn({ queue: name, err: err.message }, 'queue worker error (it keeps retrying)'));
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

  /** Stops taking jobs and waits up to `timeoutMs` for running ones; unfinished jobs are retried later. */
  async stop(timeoutMs: number): Promise<void> {
    const closing = Promise.all([...this.#workers.values()].map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn({ timeoutMs }, 'jobs still running at shutdown; they will be picked up again after restart');
      await Promise.all([...this.#workers.values()].map((w) => w.close(true).catch(() => {})));
    }
    for (const c of this.#workerConnections.splice(0)) await c.quit().catch(() => c.disconnect());
    this.#workers.clear();
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => {})));
    await this.#producer.quit().catch(() => this.#producer.disconnect());
    this.#started = false;
  }
}
