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
 *   P:content:<hash>        the group's open incident: @id → its id; <fp> → content digest;
 *                           <fp>#at, <fp>#n → when and how often it was seen again unchanged
 *   P:incidents:firing      set of firing incident ids
 *   P:incidents:resolved    zset id → resolvedAt (ms), trimmed to the retention
 *   P:incidents:recent      zset id → updatedAt (ms)
 *   P:outbox                zset "id|rev" → committedAt (ms): revisions not yet queued for triage
 */
import type { Redis } from 'ioredis';
import { stableHash } from './fingerprint.ts';
import { mergeAnomalies } from './merge.ts';
import type { Report } from '../triage/report.ts';
import { defineIncidentScripts } from './scripts.ts';
import type { Anomaly, Incident } from './types.ts';

/** What an anomaly said, as a short digest: equal digests mean a delivery brought nothing new. */
export function contentDigest(a: Anomaly): string {
  return stableHash([JSON.stringify(a)]);
}

export interface Committed {
  incidentId: string;
  /** Set when this commit made a new revision that must be triaged. */
  announce: boolean;
  /** The incident as committed; null for a repeat, which only recorded a sighting. */
  incident: Incident | null;
}

/** Retrying a compare-and-set more than this means something is hammering one group. */
const MAX_CAS_ATTEMPTS = 16;

export class IncidentStore {
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Group keys repeat endlessly (Alertmanager re-sends); hashing each once is enough. */
  readonly #groupHashes = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
  ) {
    defineIncidentScripts(redis);
  }

  #groupHash(groupKey: string): string {
    let h = this.#groupHashes.get(groupKey);
    if (!h) {
      if (this.#groupHashes.size >= 10_000) this.#groupHashes.clear();
      h = stableHash([groupKey]);
      this.#groupHashes.set(groupKey, h);
    }
    return h;
  }

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
    const groupHash = this.#groupHash(groupKey);
    // The common case, Alertmanager re-sending an unchanged group, needs no lock and no
    // compare-and-set: it only records the sighting.
    // Each anomaly's digest, once: the repeat check and the commit both need them.
    const digests = batch.flatMap((a) => [a.fingerprint, contentDigest(a)]);
    const repeat = await this.#tryRepeat(groupHash, digests, now);
    if ('incidentId' in repeat) return repeat;
    // Serialise changes to one group inside this process; the CAS covers other processes.
    // Without a wait, the state the repeat check returned is still the one to start from.
    const prev = this.#locks.get(groupKey);
    const first = prev ? undefined : repeat.current;
    const run = (prev ?? Promise.resolve()).catch(() => undefined).then(() => this.#ingest(groupKey, groupHash, batch, digests, now, first));
    this.#locks.set(groupKey, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(groupKey) === run) this.#locks.delete(groupKey);
    }
  }

  /** A repeat is recorded in one round trip; otherwise the group's current JSON comes back. */
  async #tryRepeat(groupHash: string, digests: string[], now: Date): Promise<Committed | { current: string }> {
    const [repeat, value] = await this.redis.labwatchRepeat(this.key('content', groupHash), this.key('group', groupHash), now.toISOString(), ...digests);
    return repeat === 1 ? { incidentId: value, announce: false, incident: null } : { current: value };
  }

  async #ingest(groupKey: string, groupHash: string, batch: Anomaly[], digests: string[], now: Date, known?: string): Promise<Committed | null> {
    const groupRedisKey = this.key('group', groupHash);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = attempt === 0 && known !== undefined ? known || null : await this.redis.get(groupRedisKey);
      const current = raw ? (JSON.parse(raw) as Incident) : null;
      const result = mergeAnomalies(current, batch, now.toISOString());
      if (!result) return null;
      const { incident, announce } = result;
      const json = JSON.stringify(incident);
      const ok = await this.redis.labwatchCommit(
        groupRedisKey,
        this.key('incident', incident.id),
        this.key('incidents', 'firing'),
        this.key('incidents', 'resolved'),
        this.key('outbox'),
        this.key('incidents', 'recent'),
        this.key('revision', incident.id, incident.revision),
        this.key('content', groupHash),
        raw ?? '',
        json,
        incident.id,
        incident.status,
        current?.id === incident.id ? '0' : '1',
        announce ? `${incident.id}|${incident.revision}` : '',
        String(this.retentionSeconds),
        String(now.getTime()),
        ...digests,
      );
      if (ok === 1) return { incidentId: incident.id, announce, incident };
    }
    throw new Error(`incidents: group ${groupKey} changed ${MAX_CAS_ATTEMPTS} times during one update; giving up so the sender retries`);
  }

  /** The incident as it is now, including sightings recorded by the repeat path. */
  async getIncident(id: string): Promise<Incident | null> {
    const raw = await this.redis.get(this.key('incident', id));
    if (!raw) return null;
    const incident = JSON.parse(raw) as Incident;
    return withSightings(incident, await this.redis.hgetall(this.key('content', stableHash([incident.groupKey]))));
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
    const incidents = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Incident);
    const pipeline = this.redis.pipeline();
    for (const i of incidents) pipeline.hgetall(this.key('content', stableHash([i.groupKey])));
    const content = ((await pipeline.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
    return incidents.map((i, n) => withSightings(i, content[n] ?? {}));
  }

  /** Reports are kept per revision; an extra message about one under `<revision>-<variant>`. */
  async saveReport(report: Report): Promise<void> {
    const rev = report.variant ? `${report.revision}-${report.variant}` : report.revision;
    const tx = this.redis.multi().set(this.key('report', report.incidentId, rev), JSON.stringify(report), 'EX', this.retentionSeconds);
    // What triage cost, summed over the incident's revisions (a report is saved once per revision).
    const t = report.triage;
    if (t) {
      const cost = this.key('cost', report.incidentId);
      tx.hincrby(cost, 'input', t.tokens.input).hincrby(cost, 'output', t.tokens.output).hincrby(cost, 'cache_read', t.tokens.cacheRead)
        .hincrby(cost, 'cache_write', t.tokens.cacheWrite).hincrbyfloat(cost, 'usd', t.costUsd).hincrby(cost, 'investigations', 1).expire(cost, this.retentionSeconds);
    }
    await tx.exec();
  }

  /** Tokens and US$ that triage spent on an incident so far, over all its revisions. */
  async triageCost(id: string): Promise<{ input: number; output: number; cacheRead: number; cacheWrite: number; usd: number; investigations: number } | null> {
    const h = await this.redis.hgetall(this.key('cost', id));
    if (!h.investigations) return null;
    const n = (k: string) => Number(h[k] ?? 0);
    return { input: n('input'), output: n('output'), cacheRead: n('cache_read'), cacheWrite: n('cache_write'), usd: Math.round(n('usd') * 1e6) / 1e6, investigations: n('investigations') };
  }

  async getReport(id: string, revision: number, variant?: string): Promise<Report | null> {
    const raw = await this.redis.get(this.key('report', id, variant ? `${revision}-${variant}` : revision));
    return raw ? (JSON.parse(raw) as Report) : null;
  }

  /**
   * Records an open or resolve of a group (idempotently, by member) and returns how many such
   * changes fell within the last `windowMs`.
   */
  async recordChange(groupKey: string, member: string, atMs: number, windowMs: number): Promise<number> {
    const key = this.key('changes', this.#groupHash(groupKey));
    const [, , [, count]] = (await this.redis
      .multi()
      .zadd(key, atMs, member)
      .zremrangebyscore(key, '-inf', atMs - windowMs)
      .zcard(key)
      .pexpire(key, windowMs * 2)
      .exec()) as [unknown, unknown, [unknown, number], unknown];
    return count;
  }

  /** Groups currently flapping: group key → since, last change, changes counted. */
  async flapping(): Promise<Map<string, { since: number; last: number; changes: number }>> {
    const raw = await this.redis.hgetall(this.key('flapping'));
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v) as { since: number; last: number; changes: number }]));
  }

  async setFlapping(groupKey: string, state: { since: number; last: number; changes: number } | null): Promise<void> {
    if (state) await this.redis.hset(this.key('flapping'), groupKey, JSON.stringify(state));
    else await this.redis.hdel(this.key('flapping'), groupKey);
  }

  /** Marks a group flapping unless it already is; true for the caller that did. */
  async startFlapping(groupKey: string, state: { since: number; last: number; changes: number }): Promise<boolean> {
    return (await this.redis.hsetnx(this.key('flapping'), groupKey, JSON.stringify(state))) === 1;
  }

  /** The latest incident of a group key (open or resolved). */
  async groupIncident(groupKey: string): Promise<Incident | null> {
    const raw = await this.redis.get(this.key('group', this.#groupHash(groupKey)));
    return raw ? (JSON.parse(raw) as Incident) : null;
  }

  /** Ids of the incidents firing now. */
  async firingIds(): Promise<string[]> {
    return this.redis.smembers(this.key('incidents', 'firing'));
  }

  /** When an incident was last announced at once, and how many reminders it has had. */
  async lastAnnounced(id: string): Promise<{ at: string; reminders: number } | null> {
    const raw = await this.redis.get(this.key('announced', id));
    return raw ? (JSON.parse(raw) as { at: string; reminders: number }) : null;
  }

  async markAnnounced(id: string, at: string, reminders: number): Promise<void> {
    await this.redis.set(this.key('announced', id), JSON.stringify({ at, reminders }), 'EX', this.retentionSeconds);
  }

  /** Claims reminder n of an incident for this process; false if another already did. */
  async claimReminder(id: string, n: number): Promise<boolean> {
    return (await this.redis.set(this.key('reminder', id, n), '1', 'EX', this.retentionSeconds, 'NX')) === 'OK';
  }

  /**
   * Records that a channel delivered a revision. Written after the send and before the job
   * completes, so a retried job finds it and does not send twice.
   */
  async markDelivered(id: string, revision: number | string, channel: string, ref: string | undefined): Promise<void> {
    const value = JSON.stringify({ at: new Date().toISOString(), ref: ref ?? null });
    await this.redis.set(this.key('delivery', id, revision, channel), value, 'EX', this.retentionSeconds);
  }

  async wasDelivered(id: string, revision: number | string, channel: string): Promise<boolean> {
    return (await this.redis.exists(this.key('delivery', id, revision, channel))) === 1;
  }

  /** The end of the last digest period, or null before the first. */
  async lastDigest(): Promise<string | null> {
    return this.redis.get(this.key('digest', 'last'));
  }

  /** Moves the digest mark forward (never back, so a late retry cannot reopen a period). */
  async markDigest(to: string): Promise<void> {
    const cur = await this.lastDigest();
    if (!cur || cur < to) await this.redis.set(this.key('digest', 'last'), to);
  }
}

/**
 * Folds the repeat path's sightings into the stored incident. They belong to the group's latest
 * incident only: when a new one opens, the previous one's sightings are dropped with the hash.
 */
function withSightings(incident: Incident, content: Record<string, string>): Incident {
  if (content['@id'] !== incident.id) return incident;
  for (const [fp, state] of Object.entries(incident.anomalies)) {
    const at = content[`${fp}#at`];
    if (!at) continue;
    if (at > state.lastSeenAt) state.lastSeenAt = at;
    if (at > incident.lastSeenAt) incident.lastSeenAt = at;
    state.repeats += Number(content[`${fp}#n`] ?? 0);
  }
  return incident;
}
