/**
 * Notify's own memory besides the delivery ledger: the repeat clock and reminder claims, flapping
 * groups, and the digest mark. It uses the store's connection, which fails fast while Redis is
 * away: a sweep that fails runs again a minute later. (Deliveries use a connection that waits:
 * ledger.ts.) Keys: the notify families in keys.ts (announced, reminder, changes, flapping, digest:last).
 */
import type { Redis } from 'ioredis';
import { stableHash } from '../connectors/identity.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Attention } from '../incidents/actions.ts';
import type { Incident } from '../incidents/types.ts';
import { keysOf, type StageKeys } from '../keys.ts';
import type { Report } from '../triage/report.ts';

/**
 * What notify does with triage's reports (triage/reports.ts ReportStore, passed in by daemon.ts):
 * reads the one to send, and saves its extra messages about a revision (reminder, flapping) beside it.
 */
export interface Reports {
  getReport(id: string, revision: number, variant?: string): Promise<Report | null>;
  saveReport(report: Report): Promise<void>;
  /** the incident as it stood at its last report */
  getRevision(id: string, revision: number): Promise<Incident | null>;
}

/** What notify's sweeps read of the stages before it, and its own state. */
export interface NotifyStores {
  incidents: IncidentStore;
  reports: Reports;
  state: NotifyState;
  /** whether someone acknowledged or snoozed an incident (incidents/actions.ts) */
  attention?: (id: string) => Promise<Attention>;
}

/** A flapping group: since when, its last change, and how many changes were counted. */
interface FlapState {
  since: number;
  last: number;
  changes: number;
}

export class NotifyState {
  readonly #key: StageKeys<'notify'>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.#key = keysOf(prefix, 'notify');
  }

  /** When an incident was last announced at once, and how many reminders it has had. */
  async lastAnnounced(id: string): Promise<{ at: string; reminders: number } | null> {
    const raw = await this.redis.get(this.#key('announced', id));
    return raw ? (JSON.parse(raw) as { at: string; reminders: number }) : null;
  }

  async markAnnounced(id: string, at: string, reminders: number): Promise<void> {
    await this.redis.set(this.#key('announced', id), JSON.stringify({ at, reminders }), 'EX', this.retentionSeconds);
  }

  /** Claims reminder n of an incident for this process; false if another already did. */
  async claimReminder(id: string, n: number): Promise<boolean> {
    return (await this.redis.set(this.#key('reminder', id, n), '1', 'EX', this.retentionSeconds, 'NX')) === 'OK';
  }

  /**
   * Records an open or resolve of a group (idempotently, by member) and returns how many such
   * changes fell within the last `windowMs`.
   */
  async recordChange(groupKey: string, member: string, atMs: number, windowMs: number): Promise<number> {
    const key = this.#key('changes', stableHash([groupKey]));
    const [, , [, count]] = (await this.redis
      .multi()
      .zadd(key, atMs, member)
      .zremrangebyscore(key, '-inf', atMs - windowMs)
      .zcard(key)
      .pexpire(key, windowMs * 2)
      .exec()) as [unknown, unknown, [unknown, number], unknown];
    return count;
  }

  /** Groups currently flapping, by group key. */
  async flapping(): Promise<Map<string, FlapState>> {
    const raw = await this.redis.hgetall(this.#key('flapping'));
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as FlapState]));
  }

  async setFlapping(groupKey: string, state: FlapState | null): Promise<void> {
    if (state) await this.redis.hset(this.#key('flapping'), groupKey, JSON.stringify(state));
    else await this.redis.hdel(this.#key('flapping'), groupKey);
  }

  /** Marks a group flapping unless it already is; true for the caller that did. */
  async startFlapping(groupKey: string, state: FlapState): Promise<boolean> {
    return (await this.redis.hsetnx(this.#key('flapping'), groupKey, JSON.stringify(state))) === 1;
  }

  /** The end of the last digest period, or null before the first. */
  async lastDigest(): Promise<string | null> {
    return this.redis.get(this.#key('digest:last'));
  }

  /** Moves the digest mark forward (never back, so a late retry cannot reopen a period). */
  async markDigest(to: string): Promise<void> {
    const cur = await this.lastDigest();
    if (!cur || cur < to) await this.redis.set(this.#key('digest:last'), to);
  }
}
