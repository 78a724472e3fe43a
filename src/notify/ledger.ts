/**
 * The delivery ledger: what each channel was asked to send, and what it sent. Two phases per
 * message: the intent is written before sending, the outcome after. Both go through a connection
 * that waits for Redis to come back rather than failing, so a Redis blip between a successful send
 * and its record delays the record instead of failing the job, and a retry finds the message sent.
 *
 * Keys: the notify families delivery (the outcome) and sending (the intent) in keys.ts.
 */
import type { Redis } from 'ioredis';
import { keysOf, type StageKeys } from '../keys.ts';

/** An intent younger than this may belong to a sender that is about to record its outcome. */
export const INTENT_SETTLE_MS = 60_000;

export type LedgerState = { state: 'delivered' } | { state: 'new' } | { state: 'uncertain'; since: number; job: string };

export class DeliveryLedger {
  readonly #key: StageKeys<'notify'>;

  constructor(
    /** a connection with an offline queue and no retry limit: commands wait for Redis */
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.#key = keysOf(prefix, 'notify');
  }

  /** Delivered, never tried, or tried without a recorded outcome (the sender stopped mid-send). */
  async state(id: string, key: string | number, channel: string): Promise<LedgerState> {
    const [delivered, sending] = await this.redis.mget(this.#key('delivery', id, key, channel), this.#key('sending', id, key, channel));
    if (delivered) return { state: 'delivered' };
    if (!sending) return { state: 'new' };
    const intent = JSON.parse(sending) as { at: string; job: string };
    return { state: 'uncertain', since: Date.parse(intent.at), job: intent.job };
  }

  /** Phase one: a send is about to begin. */
  async intend(id: string, key: string | number, channel: string, job: string): Promise<void> {
    await this.redis.set(this.#key('sending', id, key, channel), JSON.stringify({ at: new Date().toISOString(), job }), 'EX', this.retentionSeconds);
  }

  /** Phase two: it was sent. Waits for Redis if it is away; the job completes only after this. */
  async sent(id: string, key: string | number, channel: string, ref: string | undefined): Promise<void> {
    await this.redis
      .multi()
      .set(this.#key('delivery', id, key, channel), JSON.stringify({ at: new Date().toISOString(), ref: ref ?? null }), 'EX', this.retentionSeconds)
      .del(this.#key('sending', id, key, channel))
      .exec();
  }

  /** The send failed for certain: nothing went out, a retry may send. The error is kept for the dashboard's timeline. */
  async failed(id: string, key: string | number, channel: string, error?: string): Promise<void> {
    const tx = this.redis.multi().del(this.#key('sending', id, key, channel));
    if (error !== undefined) tx.set(this.#key('failure', id, key, channel), JSON.stringify({ at: new Date().toISOString(), error: error.slice(0, 500) }), 'EX', this.retentionSeconds);
    await tx.exec();
  }

  /** What happened to one message on one channel: sent (when, its reference), or its last failure. */
  async outcome(id: string, key: string | number, channel: string): Promise<{ sent?: { at: string; ref: string | null }; failure?: { at: string; error: string } }> {
    const [sent, failure] = await this.redis.mget(this.#key('delivery', id, key, channel), this.#key('failure', id, key, channel));
    return { ...(sent ? { sent: JSON.parse(sent) as { at: string; ref: string | null } } : {}), ...(failure ? { failure: JSON.parse(failure) as { at: string; error: string } } : {}) };
  }

  async wasDelivered(id: string, key: string | number, channel: string): Promise<boolean> {
    return (await this.redis.exists(this.#key('delivery', id, key, channel))) === 1;
  }
}
