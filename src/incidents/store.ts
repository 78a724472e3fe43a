/**
 * Incident state in Redis. One key per group holds the group's latest incident; a Lua
 * compare-and-set commits a change only if nobody else changed the group in between (several
 * processes may share one Redis), and in the same atomic step records the new revision in an
 * outbox. The outbox is what makes "nothing lost" true: a revision committed but not yet queued
 * (crash, Redis blip) is found and queued by the sweeper.
 *
 * Keys (P = configured prefix):
 *   P:group:<hash>          latest incident of a group key: its header (JSON, no anomalies; record.ts)
 *   P:incident:<id>         the same header by id
 *   P:anomalies:<id>        its anomalies: fingerprint → JSON
 *   P:revision:<id>:<rev>   the incident as it was when its last report was made (one kept per incident;
 *                           revisions themselves store nothing: a report says what changed since the last)
 *   P:report:<id>:<rev>     the report made for that revision
 *   P:delivery:…, P:sending:…  the delivery ledger (notify/ledger.ts)
 *   P:content:<hash>        the group's open incident: @id → its id; <fp> → content digest;
 *                           <fp>#at, <fp>#n → when and how often it was seen again unchanged
 *   P:incidents:firing      set of firing incident ids
 *   P:incidents:resolved    zset id → resolvedAt (ms), trimmed to the retention
 *   P:incidents:recent      zset id → updatedAt (ms)
 *   P:outbox                zset id → when its next report is due (ms): news not yet reported (pacing:
 *                           group_wait / group_interval, see scripts.ts)
 *   P:pace:<id>             hash: reported (last revision reported), flushedAt (when that report began),
 *                           owner/ownedAt (the triage job making a report now)
 */
import type { Redis } from 'ioredis';
import { stableHash } from './fingerprint.ts';
import { mergeAnomalies } from './merge.ts';
import type { Report } from '../triage/report.ts';
import { defineIncidentScripts } from './scripts.ts';
import { headerOf, incidentOf, type Header } from './record.ts';
import type { Anomaly, Incident } from './types.ts';

/** What an anomaly said, as a short digest: equal digests mean a delivery brought nothing new. */
export function contentDigest(a: Anomaly): string {
  return stableHash([JSON.stringify(a)]);
}

export interface Committed {
  incidentId: string;
  /** Set when this commit made a new revision that must be triaged. */
  announce: boolean;
  /** When the incident's next report is due (ms since the epoch); 0 when nothing new is to be reported. */
  due: number;
  /** A later due time this commit brought forward (urgent news): the job queued for it is moot. */
  replaced?: number;
  /** The incident as committed; null for a repeat, which only recorded a sighting. */
  incident: Incident | null;
}

/** Retrying a compare-and-set more than this means something is hammering one group. */
const MAX_CAS_ATTEMPTS = 16;

/** How long after the news an incident's report is due, and how often it may be updated. */
export type PacingOf = (incident: Incident) => { waitMs: number; intervalMs: number };

/** A claim on a report older than this is taken over: the job that held it is gone. */
const CLAIM_LEASE_MS = 15 * 60_000;
/** A job may run a little before its due time by another process's clock. */
const CLOCK_SLACK_MS = 1000;

export type Claim = { state: 'claimed' | 'resumed' | 'none' | 'busy' } | { state: 'later'; due: number };

export class IncidentStore {
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Group keys repeat endlessly (Alertmanager re-sends); hashing each once is enough. */
  readonly #groupHashes = new Map<string, string>();
  /**
   * The incidents this process wrote last, by group, with their header: while the header in Redis
   * is the same, the anomalies are too, and a storm of changes reads none of them back.
   */
  readonly #written = new Map<string, { header: string; incident: Incident }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds: number,
    /** Default: report every revision at once (no grouping in time). */
    private readonly pacingOf: PacingOf = () => ({ waitMs: 0, intervalMs: 0 }),
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
    return repeat === 1 ? { incidentId: value, announce: false, due: 0, incident: null } : { current: value };
  }

  /** The group's incident for a header read from Redis: from what this process wrote, or read. */
  async #current(groupHash: string, raw: string | null): Promise<{ incident: Incident | null; header: Header | null }> {
    if (!raw) return { incident: null, header: null };
    const written = this.#written.get(groupHash);
    if (written?.header === raw) return { incident: written.incident, header: null };
    const header = JSON.parse(raw) as Header;
    const fields = header.anomalies ? {} : await this.redis.hgetall(this.key('anomalies', header.id));
    return { incident: incidentOf(header, fields), header };
  }

  #remember(groupHash: string, header: string, incident: Incident): void {
    this.#written.delete(groupHash);
    if (this.#written.size >= 64) this.#written.delete(this.#written.keys().next().value!);
    this.#written.set(groupHash, { header, incident });
  }

  async #ingest(groupKey: string, groupHash: string, batch: Anomaly[], digests: string[], now: Date, known?: string): Promise<Committed | null> {
    const groupRedisKey = this.key('group', groupHash);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = attempt === 0 && known !== undefined ? known || null : await this.redis.get(groupRedisKey);
      const { incident: current, header: read } = await this.#current(groupHash, raw);
      const result = mergeAnomalies(current, batch, now.toISOString());
      if (!result) return null;
      const { incident, announce } = result;
      const same = current?.id === incident.id;
      // The write counter of the header read (or of this process's last write); never parsed twice.
      const v = ((current as Header | null)?.v ?? 0) + 1;
      const json = headerOf(incident, v);
      // Only the anomalies this batch touched are written, unless the record is new or from
      // before anomalies had a hash of their own.
      const all = !same || read?.anomalies !== undefined;
      const written = all ? Object.entries(incident.anomalies) : batch.map((a) => [a.fingerprint, incident.anomalies[a.fingerprint]!] as const);
      const anomalyArgs = written.flatMap(([fp, state]) => [fp, JSON.stringify(state)]);
      // Urgent news waits group_wait only: an escalation to critical, or the whole incident resolved.
      const urgent = incident.status === 'resolved' || (incident.severity === 'critical' && (!same || current.severity !== 'critical'));
      const { waitMs, intervalMs } = announce ? this.pacingOf(incident) : { waitMs: 0, intervalMs: 0 };
      const [ok, due, replaced] = await this.redis.labwatchCommit(
        groupRedisKey,
        this.key('incident', incident.id),
        this.key('incidents', 'firing'),
        this.key('incidents', 'resolved'),
        this.key('outbox'),
        this.key('incidents', 'recent'),
        this.key('content', groupHash),
        this.key('pace', incident.id),
        this.key('anomalies', incident.id),
        raw ?? '',
        json,
        incident.id,
        incident.status,
        same ? '0' : '1',
        announce ? '1' : '0',
        String(this.retentionSeconds),
        String(now.getTime()),
        urgent ? '1' : '0',
        String(waitMs),
        String(intervalMs),
        String(written.length),
        ...anomalyArgs,
        ...digests,
      );
      if (ok === 1) this.#remember(groupHash, json, { ...incident, v } as Incident);
      if (ok === 1) return { incidentId: incident.id, announce, due: Number(due), ...(Number(replaced) > 0 ? { replaced: Number(replaced) } : {}), incident };
    }
    throw new Error(`incidents: group ${groupKey} changed ${MAX_CAS_ATTEMPTS} times during one update; giving up so the sender retries`);
  }

  /** The incident as it is now, including sightings recorded by the repeat path. */
  async getIncident(id: string): Promise<Incident | null> {
    const [raw, fields] = await Promise.all([this.redis.get(this.key('incident', id)), this.redis.hgetall(this.key('anomalies', id))]);
    if (!raw) return null;
    const incident = incidentOf(JSON.parse(raw) as Header, fields);
    return withSightings(incident, await this.redis.hgetall(this.key('content', stableHash([incident.groupKey]))));
  }

  /** The incident as it was when the report of `revision` was made (kept for its latest report only). */
  async getRevision(id: string, revision: number): Promise<Incident | null> {
    const raw = await this.redis.get(this.key('revision', id, revision));
    return raw ? (JSON.parse(raw) as Incident) : null;
  }

  /**
   * Incidents with news not yet reported, soonest due first. Members written before pacing
   * existed ("id|rev") are converted once, due at once.
   */
  async pendingOutbox(limit = 500): Promise<{ id: string; due: number }[]> {
    const flat = await this.redis.zrange(this.key('outbox'), '0', String(limit - 1), 'WITHSCORES');
    const out: { id: string; due: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const member = flat[i]!;
      const due = Number(flat[i + 1]);
      if (member.includes('|')) {
        const id = member.split('|')[0]!;
        await this.redis.multi().zadd(this.key('outbox'), 'NX', due, id).zrem(this.key('outbox'), member).exec();
        out.push({ id, due });
      } else out.push({ id: member, due });
    }
    return out;
  }

  /**
   * Claims the incident's due report for the triage job `owner` (one report at a time per
   * incident, whichever process runs the job). `force`: a job queued before pacing existed.
   */
  async claimReport(id: string, owner: string, now = Date.now(), force = false): Promise<Claim> {
    const [code, due] = await this.redis.labwatchClaim(this.key('outbox'), this.key('pace', id), id, now, owner, CLAIM_LEASE_MS, this.retentionSeconds, force ? '1' : '0', CLOCK_SLACK_MS);
    if (code === 1) return { state: 'claimed' };
    if (code === 2) return { state: 'resumed' };
    if (code === -1) return { state: 'later', due: Number(due) };
    return { state: code === -2 ? 'busy' : 'none' };
  }

  /** Releases the claim and records `revision` as reported. */
  async finishReport(id: string, owner: string, revision: number): Promise<void> {
    await this.redis.labwatchFinish(this.key('pace', id), owner, revision, this.retentionSeconds);
  }

  /**
   * The last revision reported (0: none yet). For an incident from before pacing existed, the
   * newest revision that has a report.
   */
  async reportedRevision(id: string, current: number): Promise<number> {
    const r = await this.redis.hget(this.key('pace', id), 'reported');
    if (r !== null) return Number(r);
    for (let rev = current; rev > 0 && rev > current - 50; rev--) if (await this.redis.exists(this.key('report', id, rev))) return rev;
    return 0;
  }

  /** Keeps the incident as reported at its revision, in place of the previous report's copy. */
  async saveSnapshot(incident: Incident, previous: number): Promise<void> {
    const tx = this.redis.multi().set(this.key('revision', incident.id, incident.revision), JSON.stringify(incident), 'EX', this.retentionSeconds);
    if (previous > 0 && previous !== incident.revision) tx.del(this.key('revision', incident.id, previous));
    await tx.exec();
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
    const headers = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Header);
    const read = this.redis.pipeline();
    for (const h of headers) read.hgetall(this.key('anomalies', h.id));
    const fields = ((await read.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
    const incidents = headers.map((h, n) => incidentOf(h, fields[n] ?? {}));
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
    if (!raw) return null;
    const header = JSON.parse(raw) as Header;
    return incidentOf(header, header.anomalies ? {} : await this.redis.hgetall(this.key('anomalies', header.id)));
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
