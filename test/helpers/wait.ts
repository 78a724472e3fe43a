import type { Redis } from 'ioredis';
import type { JobQueues, QueueName } from '../../src/queue/index.ts';

/** Polls until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** For waits that are the point of a test (an outage's length, a retry pause), never for "nothing more was sent". */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `drained` reads: a labwatch's queues, and the Redis and key prefix its incidents live under. */
export interface Drainable {
  daemon: { queues: JobQueues };
  redis: Redis;
  prefix: string;
}

/**
 * Waits until labwatch has nothing left to send soon: no incident news due in the outbox, and no
 * triage, notify or digest job waiting, running, prioritised, or delayed to run within `horizonMs`
 * (a retry's backoff). A job held longer on purpose (quiet hours, the next digest) does not count.
 * After it, "nothing more was sent" is a fact rather than a guess about how long the work takes.
 */
export async function drained(lab: Drainable, timeoutMs = 15_000, horizonMs = 5_000): Promise<void> {
  await waitFor(
    'the outbox and the triage, notify and digest queues to drain',
    async () => {
      const soon = Date.now() + horizonMs;
      // The outbox first: news leaves it only when its triage job runs, and a triage job queues its
      // deliveries before it completes, so an empty outbox, then idle queues, means nothing is in flight.
      if ((await lab.redis.zcount(`${lab.prefix}:outbox`, '-inf', soon)) > 0) return false;
      for (const [name, c] of Object.entries(await lab.daemon.queues.counts())) {
        if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) > 0) return false;
        // A retried or postponed job reads as due at once (BullMQ keeps its first run time): it counts until it ran.
        if ((c.delayed ?? 0) > 0 && (await lab.daemon.queues.delayed(name as QueueName)).some((j) => j.runAt <= soon)) return false;
      }
      return true;
    },
    timeoutMs,
  );
}
