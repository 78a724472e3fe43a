/**
 * Incident state in Redis. One key per group holds the group's latest incident; a Lua
 * compare-and-set commits a change only if nobody else changed the group in between (several
 * processes may share one Redis), and in the same atomic step records the new revision in an
 * outbox. The outbox is what makes "nothing lost" true: a revision committed but not yet queued
 * (crash, Redis blip) is found and queued by the sweeper.
 *
 * The keys are the incidents stage's families in keys.ts (group, incident, anomalies, content,
 * incidents:*, outbox, pace). Reports and their cost are triage's (triage/reports.ts); deliveries,
 * reminders, flapping and the digest mark are notify's (notify/ledger.ts, notify/state.ts).
 */
import type { Redis } from 'ioredis';
import { stableHash } from '../connectors/identity.ts';
import { mergeAnomalies } from './merge.ts';
import { defineIncidentScripts } from './scripts.ts';
import { headerOf, incidentOf, type Header } from './record.ts';
import type { Anomaly, Incident } from './types.ts';
import { keysOf, redisKey, type StageKeys } from '../keys.ts';

/** What an anomaly said, as a short digest: equal digests mean a delivery brought nothing new. */
function contentDigest(a: Anomaly): string {
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

/** What #commit returns when the group changed since it was read. */
const CONFLICT = Symbol('conflict');

export type Claim = { state: 'claimed' | 'resumed' | 'none' | 'busy' } | { state: 'later'; due: number };

export class IncidentStore {
  readonly #key: StageKeys<'incidents'>;
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
    this.#key = keysOf(prefix, 'incidents');
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

  /**
   * Applies a batch of anomalies that share one group key and commits the result. Resolves only
   * once the change is in Redis; rejects (and changes nothing) when Redis cannot be reached.
   */
  async ingest(batch: Anomaly[], now = new Date()): Promise<Committed | null> {
    if (batch.length === 0) return null;
    const groupKey = batch[0]!.groupKey;
    // A group this process has not met yet is most likely new (a new alert, or the first of a
    // storm): its incident is opened in one round trip, the compare-and-set against "no incident".
    const unmet = !this.#groupHashes.has(groupKey);
    const groupHash = this.#groupHash(groupKey);
    // Each anomaly's digest, once: the repeat check and the commit both need them.
    const digests = batch.flatMap((a) => [a.fingerprint, contentDigest(a)]);
    if (unmet && !this.#locks.has(groupKey)) {
      const opened = await this.#serialised(groupKey, () => this.#commit(groupHash, batch, digests, now, null, null, null));
      if (opened !== CONFLICT) return opened;
      // The group had an incident after all (another process, or before a restart): the usual way.
    }
    // The common case, Alertmanager re-sending an unchanged group, needs no lock and no
    // compare-and-set: it only records the sighting.
    const repeat = await this.#tryRepeat(groupHash, digests, now);
    if ('incidentId' in repeat) return repeat;
    // Without a wait for another change to this group, the state the repeat check returned is
    // still the one to start from.
    const first = this.#locks.has(groupKey) ? undefined : repeat.current;
    return this.#serialised(groupKey, () => this.#ingest(groupKey, groupHash, batch, digests, now, first));
  }

  /** Serialises changes to one group inside this process; the compare-and-set covers other processes. */
  async #serialised<T>(groupKey: string, work: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(groupKey);
    const run = (prev ?? Promise.resolve()).catch(() => undefined).then(work);
    this.#locks.set(groupKey, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(groupKey) === run) this.#locks.delete(groupKey);
    }
  }

  /** A repeat is recorded in one round trip; otherwise the group's current JSON comes back. */
  async #tryRepeat(groupHash: string, digests: string[], now: Date): Promise<Committed | { current: string }> {
    const [repeat, value] = await this.redis.labwatchRepeat(this.#key('content', groupHash), this.#key('group', groupHash), now.toISOString(), ...digests);
    return repeat === 1 ? { incidentId: value, announce: false, due: 0, incident: null } : { current: value };
  }

  /** The group's incident for a header read from Redis: from what this process wrote, or read. */
  async #current(groupHash: string, raw: string | null): Promise<{ incident: Incident | null; header: Header | null }> {
    if (!raw) return { incident: null, header: null };
    const written = this.#written.get(groupHash);
    if (written?.header === raw) return { incident: written.incident, header: null };
    const header = JSON.parse(raw) as Header;
    const fields = header.anomalies ? {} : await this.redis.hgetall(this.#key('anomalies', header.id));
    return { incident: incidentOf(header, fields), header };
  }

  #remember(groupHash: string, header: string, incident: Incident): void {
    this.#written.delete(groupHash);
    if (this.#written.size >= 64) this.#written.delete(this.#written.keys().next().value!);
    this.#written.set(groupHash, { header, incident });
  }

  async #ingest(groupKey: string, groupHash: string, batch: Anomaly[], digests: string[], now: Date, known?: string): Promise<Committed | null> {
    const groupRedisKey = this.#key('group', groupHash);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = attempt === 0 && known !== undefined ? known || null : await this.redis.get(groupRedisKey);
      const { incident: current, header: read } = await this.#current(groupHash, raw);
      const committed = await this.#commit(groupHash, batch, digests, now, raw, current, read);
      if (committed !== CONFLICT) return committed;
    }
    throw new Error(`incidents: group ${groupKey} changed ${MAX_CAS_ATTEMPTS} times during one update; giving up so the sender retries`);
  }

  /**
   * Merges `batch` into `current` (the incident whose header in Redis is `raw`; null: none) and
   * commits it, if the group's header is still `raw`. CONFLICT when it changed meanwhile.
   */
  async #commit(groupHash: string, batch: Anomaly[], digests: string[], now: Date, raw: string | null, current: Incident | null, read: Header | null): Promise<Committed | null | typeof CONFLICT> {
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
    const urgent = incident.status === 'resolved' || (incident.severity === 'critical' && (!same || current!.severity !== 'critical'));
    const { waitMs, intervalMs } = announce ? this.pacingOf(incident) : { waitMs: 0, intervalMs: 0 };
    const [ok, due, replaced] = await this.redis.labwatchCommit(
      this.#key('group', groupHash),
      this.#key('incident', incident.id),
      this.#key('incidents:firing'),
      this.#key('incidents:resolved'),
      this.#key('outbox'),
      this.#key('incidents:recent'),
      this.#key('content', groupHash),
      this.#key('pace', incident.id),
      this.#key('anomalies', incident.id),
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
    if (ok !== 1) return CONFLICT;
    this.#remember(groupHash, json, { ...incident, v } as Incident);
    return { incidentId: incident.id, announce, due: Number(due), ...(Number(replaced) > 0 ? { replaced: Number(replaced) } : {}), incident };
  }

  /** The incident as it is now, including sightings recorded by the repeat path. */
  async getIncident(id: string): Promise<Incident | null> {
    const [raw, fields] = await Promise.all([this.redis.get(this.#key('incident', id)), this.redis.hgetall(this.#key('anomalies', id))]);
    if (!raw) return null;
    const incident = incidentOf(JSON.parse(raw) as Header, fields);
    return withSightings(incident, await this.redis.hgetall(this.#key('content', stableHash([incident.groupKey]))));
  }

  /**
   * Incidents with news not yet reported, soonest due first; `until`: only those due by then (ms).
   * Members written before pacing existed ("id|rev") are converted once, due at once.
   */
  async pendingOutbox(limit = 500, until = Infinity, offset = 0): Promise<{ id: string; due: number }[]> {
    const flat = await this.redis.zrangebyscore(this.#key('outbox'), '-inf', until === Infinity ? '+inf' : until, 'WITHSCORES', 'LIMIT', offset, limit);
    const out: { id: string; due: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const member = flat[i]!;
      const due = Number(flat[i + 1]);
      if (member.includes('|')) {
        const id = member.split('|')[0]!;
        await this.redis.multi().zadd(this.#key('outbox'), 'NX', due, id).zrem(this.#key('outbox'), member).exec();
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
    const [code, due] = await this.redis.labwatchClaim(this.#key('outbox'), this.#key('pace', id), id, now, owner, CLAIM_LEASE_MS, this.retentionSeconds, force ? '1' : '0', CLOCK_SLACK_MS);
    if (code === 1) return { state: 'claimed' };
    if (code === 2) return { state: 'resumed' };
    if (code === -1) return { state: 'later', due: Number(due) };
    return { state: code === -2 ? 'busy' : 'none' };
  }

  /** Releases the claim and records `revision` as reported. */
  async finishReport(id: string, owner: string, revision: number): Promise<void> {
    await this.redis.labwatchFinish(this.#key('pace', id), owner, revision, this.retentionSeconds);
  }

  /**
   * The last revision reported (0: none yet). For an incident from before pacing existed, the
   * newest revision that has a report (a read of triage's keys, for that old data only).
   */
  async reportedRevision(id: string, current: number): Promise<number> {
    const r = await this.redis.hget(this.#key('pace', id), 'reported');
    if (r !== null) return Number(r);
    for (let rev = current; rev > 0 && rev > current - 50; rev--) if (await this.redis.exists(redisKey(this.prefix, 'report', id, rev))) return rev;
    return 0;
  }

  async countByState(): Promise<Record<string, number>> {
    const [firing, resolved] = await Promise.all([
      this.redis.scard(this.#key('incidents:firing')),
      this.redis.zcard(this.#key('incidents:resolved')),
    ]);
    return { firing, resolved };
  }

  /** Most recently changed incidents first. */
  async listRecent(limit = 50): Promise<Incident[]> {
    const ids = await this.redis.zrevrange(this.#key('incidents:recent'), '0', String(limit - 1));
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.#key('incident', id)));
    const headers = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as Header);
    const read = this.redis.pipeline();
    for (const h of headers) read.hgetall(this.#key('anomalies', h.id));
    const fields = ((await read.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
    const incidents = headers.map((h, n) => incidentOf(h, fields[n] ?? {}));
    const pipeline = this.redis.pipeline();
    for (const i of incidents) pipeline.hgetall(this.#key('content', stableHash([i.groupKey])));
    const content = ((await pipeline.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
    return incidents.map((i, n) => withSightings(i, content[n] ?? {}));
  }

  /** Incidents changed at or after `sinceMs`, oldest change first (the dashboard's live feed). */
  async changedSince(sinceMs: number, limit = 10_000): Promise<{ id: string; at: number }[]> {
    const flat = await this.redis.zrangebyscore(this.#key('incidents:recent'), sinceMs, '+inf', 'WITHSCORES', 'LIMIT', 0, limit);
    const out: { id: string; at: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, at: Number(flat[i + 1]) });
    return out;
  }

  /** The latest incident of a group key (open or resolved). */
  async groupIncident(groupKey: string): Promise<Incident | null> {
    const raw = await this.redis.get(this.#key('group', this.#groupHash(groupKey)));
    if (!raw) return null;
    const header = JSON.parse(raw) as Header;
    return incidentOf(header, header.anomalies ? {} : await this.redis.hgetall(this.#key('anomalies', header.id)));
  }

  /** Ids of the incidents firing now. */
  async firingIds(): Promise<string[]> {
    return this.redis.smembers(this.#key('incidents:firing'));
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
