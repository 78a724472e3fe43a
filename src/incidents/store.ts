/**
 * Incident state in Redis. One key per group holds the group's latest incident; a Lua
 * compare-and-set commits a change only if nobody else changed the group in between (several
 * processes may share one Redis), and in the same atomic step records the new revision in an
 * outbox. The outbox is what makes "nothing lost" true: a revision committed but not yet queued
 * (crash, Redis blip) is found and queued by the sweeper.
 *
 * Keys (P = configured prefix):
 *   P:group:<hash>          latest incident of a group key (JSON)
 *   P:incident:<id>         the same incident by id
 *   P:revision:<id>:<rev>   the incident as it was at that revision (what triage reads)
 *   P:report:<id>:<rev>     the report made for that revision
 *   P:delivery:<id>:<rev>:<channel>  proof that a channel delivered it (idempotent notify)
 *   P:incidents:firing      set of firing incident ids
 *   P:incidents:resolved    zset id → resolvedAt (ms), trimmed to the retention
 *   P:incidents:recent      zset id → updatedAt (ms)
 *   P:outbox                zset "id|rev" → committedAt (ms): revisions not yet queued for triage
 */
import type { Redis } from 'ioredis';
import { stableHash } from './fingerprint.ts';
import { mergeAnomalies } from './merge.ts';
import type { Report } from '../triage/report.ts';
import type { Anomaly, Incident } from './types.ts';

const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[7])
local now = tonumber(ARGV[8])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] == 'resolved' then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
  redis.call('SREM', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[4], now, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - ttl * 1000)
else
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
end
redis.call('ZADD', KEYS[6], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - ttl * 1000)
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[7], ARGV[2], 'EX', ttl)
  redis.call('ZADD', KEYS[5], now, ARGV[6])
end
return 1
`;

export interface Committed {
  incident: Incident;
  /** Set when this commit made a new revision that must be triaged. */
  announce: boolean;
}

/** Retrying a compare-and-set more than this means something is hammering one group. */
const MAX_CAS_ATTEMPTS = 16;

export class IncidentStore {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {}

  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /**
   * Applies a batch of anomalies that share one group key and commits the result. Resolves only
   * once the change is in Redis; rejects (and changes nothing) when Redis cannot be reached.
   */
  async ingest(batch: Anomaly[], now = new Date()): Promise<Committed | null> {
    if (batch.length === 0) return null;
    const groupKey = batch[0]!.groupKey;
    // Serialise work on one group inside this process; the CAS covers other processes.
    const prev = this.#locks.get(groupKey) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.#ingest(groupKey, batch, now));
    this.#locks.set(groupKey, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(groupKey) === run) this.#locks.delete(groupKey);
    }
  }

  async #ingest(groupKey: string, batch: Anomaly[], now: Date): Promise<Committed | null> {
    const groupRedisKey = this.key('group', stableHash([groupKey]));
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.redis.get(groupRedisKey);
      const current = raw ? (JSON.parse(raw) as Incident) : null;
      const result = mergeAnomalies(current, batch, now.toISOString());
      if (!result) return null;
      const { incident, announce } = result;
      const json = JSON.stringify(incident);
      const ok = await this.redis.eval(
        COMMIT,
        7,
        groupRedisKey,
        this.key('incident', incident.id),
        this.key('incidents', 'firing'),
        this.key('incidents', 'resolved'),
        this.key('outbox'),
        this.key('incidents', 'recent'),
        this.key('revision', incident.id, incident.revision),
        raw ?? '',
        json,
        incident.id,
        incident.status,
        '',
        announce ? `${incident.id}|${incident.revision}` : '',
        String(this.retentionSeconds),
        String(now.getTime()),
      );
      if (ok === 1) return { incident, announce };
    }
    throw new Error(`incidents: group ${groupKey} changed ${MAX_CAS_ATTEMPTS} times during one update; giving up so the sender retries`);
  }

  async getIncident(id: string): Promise<Incident | null> {
    const raw = await this.redis.get(this.key('incident', id));
    return raw ? (JSON.parse(raw) as Incident) : null;
  }

  /** The incident as it was when `revision` was committed (what its report must describe). */
  async getRevision(id: string, revision: number): Promise<Incident | null> {
    const raw = await this.redis.get(this.key('revision', id, revision));
    return raw ? (JSON.parse(raw) as Incident) : null;
  }

  /** Revisions committed but not yet confirmed queued, oldest first. */
  async pendingOutbox(limit = 500): Promise<{ id: string; revision: number }[]> {
    const members = await this.redis.zrange(this.key('outbox'), '0', String(limit - 1));
    return members.map((m) => {
      const [id, rev] = m.split('|');
      return { id: id!, revision: Number(rev) };
    });
  }

  async clearOutbox(id: string, revision: number): Promise<void> {
    await this.redis.zrem(this.key('outbox'), `${id}|${revision}`);
  }

  async countByState(): Promise<Record<string, number>> {
    const [firing, resolved] = await Promise.all([
      this.redis.scard(this.key('incidents', 'firing')),
      this.redis.zcard(this.key('incidents', 'resolved')),
    ]);
    return { firing, resolved };
  }

  /** Most recently changed incidents first. */
  async listRecent(limit = 50): Promise<Incident[]> {
    const ids = await this.redis.zrevrange(this.key('incidents', 'recent'), '0', String(limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key('incident', id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Incident);
  }

  async saveReport(report: Report): Promise<void> {
    await this.redis.set(this.key('report', report.incidentId, report.revision), JSON.stringify(report), 'EX', this.retentionSeconds);
  }

  async getReport(id: string, revision: number): Promise<Report | null> {
    const raw = await this.redis.get(this.key('report', id, revision));
    return raw ? (JSON.parse(raw) as Report) : null;
  }

  /**
   * Records that a channel delivered a revision. Written after the send and before the job
   * completes, so a retried job finds it and does not send twice.
   */
  async markDelivered(id: string, revision: number, channel: string, ref: string | undefined): Promise<void> {
    const value = JSON.stringify({ at: new Date().toISOString(), ref: ref ?? null });
    await this.redis.set(this.key('delivery', id, revision, channel), value, 'EX', this.retentionSeconds);
  }

  async wasDelivered(id: string, revision: number, channel: string): Promise<boolean> {
    return (await this.redis.exists(this.key('delivery', id, revision, channel))) === 1;
  }
}
