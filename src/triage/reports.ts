/**
 * Triage's state in Redis: the reports it made, what they cost, and the incident as it stood at
 * its last report (what the next report says changed since). Notify reads reports from here and
 * saves its extra messages about a revision (reminders, flapping notices) beside them.
 * Keys: the triage families in keys.ts (report, revision, cost, spend).
 */
import type { Redis } from 'ioredis';
import type { Incident } from '../incidents/types.ts';
import { keysOf, type StageKeys } from '../keys.ts';
import type { Report } from './report.ts';
import { addSpend, dayOf } from './spend.ts';

/** What triage spent on one incident, summed over its revisions. */
interface CostSoFar {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  usd: number;
  investigations: number;
  /** made by a local model (no price): say so rather than "$0" */
  local: boolean;
}

export class ReportStore {
  readonly #key: StageKeys<'triage'>;

  constructor(
    /** the store's connection, which fails fast while Redis is away */
    private readonly redis: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
  ) {
    this.#key = keysOf(prefix, 'triage');
  }

  /** Reports are kept per revision; an extra message about one under `<revision>-<variant>`. */
  async saveReport(report: Report): Promise<void> {
    const rev = report.variant ? `${report.revision}-${report.variant}` : report.revision;
    const tx = this.redis.multi().set(this.#key('report', report.incidentId, rev), JSON.stringify(report), 'EX', this.retentionSeconds);
    // What triage cost, summed over the incident's revisions (a report is saved once per revision).
    const t = report.triage;
    if (t) {
      const cost = this.#key('cost', report.incidentId);
      tx.hincrby(cost, 'input', t.tokens.input).hincrby(cost, 'output', t.tokens.output).hincrby(cost, 'cache_read', t.tokens.cacheRead)
        .hincrby(cost, 'cache_write', t.tokens.cacheWrite).hincrbyfloat(cost, 'usd', t.costUsd).hincrby(cost, 'investigations', 1).expire(cost, this.retentionSeconds);
      if (t.local) tx.hset(cost, 'local', '1');
      addSpend(tx, this.#key, new Date(), t.costUsd, 'investigations', this.retentionSeconds);
    }
    await tx.exec();
  }

  async getReport(id: string, revision: number, variant?: string): Promise<Report | null> {
    const raw = await this.redis.get(this.#key('report', id, variant ? `${revision}-${variant}` : revision));
    return raw ? (JSON.parse(raw) as Report) : null;
  }

  /** Tokens and US$ that triage spent on an incident so far, over all its revisions. */
  async triageCost(id: string): Promise<CostSoFar | null> {
    const h = await this.redis.hgetall(this.#key('cost', id));
    if (!h.investigations) return null;
    const n = (k: string) => Number(h[k] ?? 0);
    return { input: n('input'), output: n('output'), cacheRead: n('cache_read'), cacheWrite: n('cache_write'), usd: Math.round(n('usd') * 1e6) / 1e6, investigations: n('investigations'), local: h.local === '1' };
  }

  /**
   * What the model cost on the day of `day` (local time): US$, triage investigations and dashboard
   * questions (`labwatch ask` on the command line keeps no count).
   */
  async spentOn(day: Date): Promise<{ usd: number; investigations: number; asks: number }> {
    const h = await this.redis.hgetall(this.#key('spend', dayOf(day)));
    return { usd: Math.round(Number(h.usd ?? 0) * 1e6) / 1e6, investigations: Number(h.investigations ?? 0), asks: Number(h.asks ?? 0) };
  }

  /** Keeps the incident as reported at its revision, in place of the previous report's copy. */
  async saveSnapshot(incident: Incident, previous: number): Promise<void> {
    const tx = this.redis.multi().set(this.#key('revision', incident.id, incident.revision), JSON.stringify(incident), 'EX', this.retentionSeconds);
    if (previous > 0 && previous !== incident.revision) tx.del(this.#key('revision', incident.id, previous));
    await tx.exec();
  }

  /** The incident as it was when the report of `revision` was made (kept for its latest report only). */
  async getRevision(id: string, revision: number): Promise<Incident | null> {
    const raw = await this.redis.get(this.#key('revision', id, revision));
    return raw ? (JSON.parse(raw) as Incident) : null;
  }
}
