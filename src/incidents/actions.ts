/**
 * What people do about an incident: acknowledge it (someone is on it: reminders stop, everyone
 * sees who), snooze it (no reminders or update messages until a time), resolve it by hand (for an
 * alert whose source will never resolve it), or note a silence made elsewhere. Each action is
 * kept in the incident's action log, which the dashboard's timeline shows, and touches the
 * incident's place in the recent list so every open dashboard sees it change.
 *
 * Keys: the incidents families attention, actions and incidents:recent in keys.ts.
 */
import type { Redis } from 'ioredis';
import { keysOf, type StageKeys } from '../keys.ts';
import type { Intake } from './intake.ts';
import type { IncidentStore } from './store.ts';
import { RESOLVED_BY_HAND } from './merge.ts';
import type { Anomaly, Incident, Severity } from './types.ts';

export type ActionKind = 'acknowledged' | 'snoozed' | 'unsnoozed' | 'resolved-by-hand' | 'silenced';

/** One thing a person did, as the timeline shows it. */
export interface ActionEntry {
  at: string;
  action: ActionKind;
  /** who: the name given at log-in, user@host for the CLI, "ntfy/email link" for a signed link */
  by: string;
  /** where from: dashboard, api, cli, link */
  via: string;
  /** e.g. the snooze's end, the silence's id */
  detail?: string;
}

/** Whether anyone is on the incident, and whether it is snoozed now. */
export interface Attention {
  acknowledged?: { by: string; at: string };
  snoozedUntil?: { until: string; by: string; at: string; severity?: Severity };
}

const MAX_LOG = 200;
/** A snooze longer than this is a mistake (a week is the longest a lab owner is away). */
const MAX_SNOOZE_MS = 30 * 86_400_000;

/** A refusal a person can act on: no such incident, already resolved, a snooze out of range. */
export class ActionError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 400 | 502,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

export class IncidentActions {
  readonly #key: StageKeys<'incidents'>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
    private readonly store: IncidentStore,
    /** the way anomalies enter the core: a resolution by hand goes through it like any other */
    private readonly intake: Pick<Intake, 'accept'>,
  ) {
    this.#key = keysOf(prefix, 'incidents');
  }

  /** Reading it keeps it (and the action log) for another retention period: an incident acknowledged long ago and still firing stays acknowledged. */
  async attention(id: string, now = Date.now()): Promise<Attention> {
    const [[, h]] = (await this.redis.multi().hgetall(this.#key('attention', id)).expire(this.#key('attention', id), this.retentionSeconds).expire(this.#key('actions', id), this.retentionSeconds).exec()) as [[unknown, Record<string, string>]];
    return attentionOf(h ?? {}, now);
  }

  /** The attention of many incidents in one round trip (the dashboard's list). */
  async attentionOfMany(ids: string[], now = Date.now()): Promise<Attention[]> {
    if (ids.length === 0) return [];
    const read = this.redis.pipeline();
    for (const id of ids) read.hgetall(this.#key('attention', id));
    const replies = (await read.exec()) ?? [];
    return replies.map(([, v]) => attentionOf((v ?? {}) as Record<string, string>, now));
  }

  async log(id: string): Promise<ActionEntry[]> {
    return (await this.redis.lrange(this.#key('actions', id), 0, -1)).map((l) => JSON.parse(l) as ActionEntry);
  }

  async #open(id: string): Promise<Incident> {
    const incident = await this.store.getIncident(id);
    if (!incident) throw new ActionError(`no incident ${id} (resolved incidents are kept for incidents.retention)`, 404);
    if (incident.status !== 'firing') throw new ActionError(`incident ${id} is already resolved${incident.resolvedAt ? ` (at ${incident.resolvedAt})` : ''}; nothing to do`, 409);
    return incident;
  }

  async #record(id: string, entry: ActionEntry, fields?: Record<string, string>, clear: string[] = []): Promise<void> {
    const attention = this.#key('attention', id);
    const log = this.#key('actions', id);
    const tx = this.redis.multi();
    if (fields) tx.hset(attention, fields).expire(attention, this.retentionSeconds);
    if (clear.length) tx.hdel(attention, ...clear);
    tx.rpush(log, JSON.stringify(entry)).ltrim(log, -MAX_LOG, -1).expire(log, this.retentionSeconds);
    // The incident moves to the top of the recent list: open dashboards see the change.
    tx.zadd(this.#key('incidents:recent'), Date.parse(entry.at), id);
    await tx.exec();
  }

  /** Someone is on it: reminders stop until it resolves. Acknowledging twice (a phone and the dashboard at once) keeps the first. */
  async acknowledge(id: string, by: string, via: string, now = new Date()): Promise<Attention> {
    await this.#open(id);
    const attention = this.#key('attention', id);
    const first = (await this.redis.hsetnx(attention, 'ack_by', by)) === 1;
    if (first) await this.#record(id, { at: now.toISOString(), action: 'acknowledged', by, via }, { ack_at: now.toISOString() });
    return this.attention(id, now.getTime());
  }

  /** No reminders or update messages until `forMs` from now (an escalation or the resolution still goes out). */
  async snooze(id: string, forMs: number, by: string, via: string, now = new Date()): Promise<Attention> {
    if (!Number.isFinite(forMs) || forMs < 60_000 || forMs > MAX_SNOOZE_MS) throw new ActionError(`a snooze lasts from 1 minute to 30 days; got ${Number.isFinite(forMs) ? `${Math.round(forMs / 1000)} s` : String(forMs)}`, 400);
    const incident = await this.#open(id);
    const until = new Date(now.getTime() + forMs).toISOString();
    // The severity it had: an update that raises it still goes out while snoozed.
    await this.#record(id, { at: now.toISOString(), action: 'snoozed', by, via, detail: `until ${until}` }, { snooze_until: String(now.getTime() + forMs), snooze_by: by, snooze_at: now.toISOString(), snooze_severity: incident.severity });
    return this.attention(id, now.getTime());
  }

  async unsnooze(id: string, by: string, via: string, now = new Date()): Promise<Attention> {
    await this.#open(id);
    await this.#record(id, { at: now.toISOString(), action: 'unsnoozed', by, via }, undefined, ['snooze_until', 'snooze_by', 'snooze_at', 'snooze_severity']);
    return this.attention(id, now.getTime());
  }

  /**
   * Resolves every firing anomaly of the incident as if its source had: the incident resolves
   * through the intake like any other, so the resolution is reported on the usual channels. Its
   * source re-sending the same firing alert (Alertmanager repeats a group until it clears) does
   * not reopen it (merge.ts); a new start does, as a new incident.
   */
  async resolveByHand(id: string, by: string, via: string, now = new Date()): Promise<void> {
    const incident = await this.#open(id);
    const at = now.toISOString();
    const batch: Anomaly[] = Object.values(incident.anomalies)
      .filter((a) => a.status === 'firing')
      .map(({ firstSeenAt: _f, lastSeenAt: _l, repeats: _r, ...a }) => ({ ...a, status: 'resolved' as const, endsAt: at, annotations: { ...a.annotations, [RESOLVED_BY_HAND]: `${by} (${via})` } }));
    if (batch.length) await this.intake.accept(batch, { grouped: true });
    // Recorded once the resolution is committed: the timeline never says resolved when it is not.
    await this.#record(id, { at, action: 'resolved-by-hand', by, via });
  }

  /** A silence made in Alertmanager for this incident's alerts (by the write tool, as a person). */
  async noteSilence(id: string, silenceId: string, until: string, by: string, via: string, now = new Date()): Promise<void> {
    await this.#open(id);
    await this.#record(id, { at: now.toISOString(), action: 'silenced', by, via, detail: `silence ${silenceId} until ${until}` });
  }
}

function attentionOf(h: Record<string, string>, now: number): Attention {
  const out: Attention = {};
  if (h.ack_by && h.ack_at) out.acknowledged = { by: h.ack_by, at: h.ack_at };
  const until = Number(h.snooze_until ?? 0);
  if (until > now) out.snoozedUntil = { until: new Date(until).toISOString(), by: h.snooze_by ?? '', at: h.snooze_at ?? '', ...(h.snooze_severity ? { severity: h.snooze_severity as Severity } : {}) };
  return out;
}
