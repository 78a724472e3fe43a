/**
 * The dashboard's conversations with the model, kept in Redis with what each turn cost: one hash
 * per conversation (its header and its turns) and a list of them by last activity. Each kept turn
 * also adds to the day's spend (spend.ts). Keys: the triage families conversation, conversations, spend.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keysOf, type StageKeys } from '../keys.ts';
import type { Usage } from './cost.ts';
import { addSpend } from './spend.ts';

/** One tool call made while answering, as the person saw it happen. */
export interface TurnCall {
  name: string;
  input: unknown;
  outcome: string;
  durationMs: number;
  bytes: number;
}

export interface Turn {
  at: string;
  question: string;
  answer: string;
  calls: TurnCall[];
  tokens: Usage;
  usd: number;
}

export interface ConversationSummary {
  id: string;
  /** when it started */
  at: string;
  /** its first question */
  question: string;
  /** who asked first */
  by: string;
  turns: number;
  /** US$ over all its turns */
  usd: number;
}

/** A follow-up beyond this starts a new conversation: the model is sent the last ten turns anyway. */
export const MAX_TURNS = 50;

/** Ids as the store makes them; anything else is not worth a Redis read. */
export const CONVERSATION_ID = /^conv-[0-9a-z]{6,12}-[0-9a-f]{8}$/;

export class ConversationStore {
  readonly #key: StageKeys<'triage'>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.#key = keysOf(prefix, 'triage');
  }

  /**
   * Keeps a turn: in conversation `id`, or in a new one started by `by` when id is undefined.
   * Returns the conversation's id and how many turns it now has.
   */
  async append(id: string | undefined, by: string, turn: Turn): Promise<{ id: string; turns: number }> {
    const now = new Date(turn.at);
    const conv = id ?? `conv-${now.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
    const k = this.#key('conversation', conv);
    // The header is set once (a follow-up to a conversation that just expired starts it again).
    const r = await this.redis.multi().hsetnx(k, 'at', turn.at).hsetnx(k, 'by', by).hsetnx(k, 'question', turn.question)
      .hincrby(k, 'turns', 1).hincrbyfloat(k, 'usd', turn.usd).expire(k, this.retentionSeconds).exec();
    const n = Number(r?.[3]?.[1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`conversations: could not count the turns of ${conv} (${String(r?.[3]?.[0] ?? 'no answer from Redis')})`);
    // The turn is stored under the number the increment gave it: two tabs asking at once both keep theirs.
    const list = this.#key('conversations');
    await addSpend(this.redis.multi().hset(k, `turn:${n}`, JSON.stringify(turn)), this.#key, now, turn.usd, 'asks', this.retentionSeconds)
      .zadd(list, now.getTime(), conv)
      .zremrangebyscore(list, '-inf', Date.now() - this.retentionSeconds * 1000)
      .exec();
    return { id: conv, turns: n };
  }

  /** The conversation's header and turns (oldest first), or null when there is none (or it has expired). */
  async get(id: string): Promise<(ConversationSummary & { turnList: Turn[] }) | null> {
    const h = await this.redis.hgetall(this.#key('conversation', id));
    if (!h.at) return null;
    const turnList: Turn[] = [];
    for (let i = 1; i <= Number(h.turns ?? 0); i++) {
      const raw = h[`turn:${i}`];
      if (raw) turnList.push(JSON.parse(raw) as Turn);
    }
    return { ...summary(id, h), turnList };
  }

  /** The most recent conversations, newest first. */
  async recent(limit = 50): Promise<ConversationSummary[]> {
    const ids = await this.redis.zrevrange(this.#key('conversations'), 0, limit - 1);
    const tx = this.redis.multi();
    for (const id of ids) tx.hmget(this.#key('conversation', id), 'at', 'question', 'by', 'turns', 'usd');
    const rows = (await tx.exec()) ?? [];
    return ids.flatMap((id, i) => {
      const [at, question, by, turns, usd] = (rows[i]?.[1] ?? []) as (string | null)[];
      // An id whose conversation expired before the list was trimmed.
      return at ? [summary(id, { at, question: question ?? '', by: by ?? '', turns: turns ?? '0', usd: usd ?? '0' })] : [];
    });
  }
}

function summary(id: string, h: Record<string, string>): ConversationSummary {
  return { id, at: h.at!, question: h.question ?? '', by: h.by ?? '', turns: Number(h.turns ?? 0), usd: Math.round(Number(h.usd ?? 0) * 1e6) / 1e6 };
}
