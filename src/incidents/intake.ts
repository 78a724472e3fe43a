/**
 * Where anomalies enter the core, from any source. Commits each group's change to Redis; the
 * commit is the promise made to the sender: it already put the incident in the outbox with the
 * time its next report is due (group_wait / group_interval), atomically. The outbox is then
 * drained into BullMQ when reports fall due, not on the request path: a timer here queues what
 * this process committed, many at once (one round trip), and a sweep every few seconds queues what
 * anyone committed that falls due soon (another process's, or what a crash or a Redis blip left).
 * The job id is the incident and its due time, so queueing twice is harmless.
 */
import type { Logger } from '../telemetry/log.ts';
import { every } from '../util/every.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { IncidentStore, Committed } from './store.ts';
import { isLabGroupKey, labGroupKey } from '../connectors/identity.ts';
import type { Anomaly } from './types.ts';

/**
 * An incident's report to queue: due at `due` (ms since the epoch; held back until then);
 * `replaced`: the later due time whose job it supersedes; `late`: set when the incident is long
 * overdue, to make a job id of its own (the minute) whatever became of the job for `due`.
 */
export interface DueReport {
  incidentId: string;
  due: number;
  replaced?: number;
  late?: number;
}
/** Queues the triage jobs of these reports (in one round trip where it can). */
export type EnqueueTriage = (reports: DueReport[]) => Promise<void>;
/** The group another connector placed each subject in (a disk in its pool), or null. */
export type GroupsOf = (subjects: string[]) => Promise<(string | null)[]>;

/** Reports committed here that wait for their due time; past this many, the sweep queues the rest. */
const MAX_HELD = 50_000;
/** In a storm, the timer runs at most this often: what fell due meanwhile goes in one batch. */
const PUMP_GAP_MS = 50;
/** Jobs queued per round trip. */
const BATCH = 500;
/** The sweep reads the outbox this many entries at a time, and queues at most SWEEP_MAX per sweep. */
const PAGE = 1000;
const SWEEP_MAX = 10_000;
/** An outbox entry this long overdue gets a job of its own, once a minute, whatever became of the first. */
const LATE_MS = 30_000;

export class Intake {
  #stop: (() => void) | undefined;
  #sweeping = false;
  /** Reports this process committed and has not queued yet: incident id → due time (and the one it replaced). */
  readonly #held = new Map<string, { due: number; replaced?: number }>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #pumping = false;
  /** "id|due" the timer queued since the last sweep, which need not queue them again. */
  readonly #queuedHere = new Set<string>();

  constructor(
    private readonly store: IncidentStore,
    private readonly enqueue: EnqueueTriage,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly sweepEveryMs = 10_000,
    private readonly groupsOf?: GroupsOf,
  ) {}

  /**
   * An anomaly grouped by its subject (an alert naming a disk) joins the group a collector put
   * that subject in (the disk's pool), so one problem is one incident whoever reported it.
   */
  async #regroup(anomalies: Anomaly[]): Promise<Anomaly[]> {
    const candidates = anomalies.filter((a) => isLabGroupKey(a.groupKey) && a.groupKey === labGroupKey(a.host, a.subject));
    if (!this.groupsOf || candidates.length === 0) return anomalies;
    const subjects = [...new Set(candidates.map((a) => a.subject))];
    const groups = await this.groupsOf(subjects);
    const groupOf = new Map(subjects.map((s, i) => [s, groups[i]]));
    return anomalies.map((a) => {
      const g = candidates.includes(a) ? groupOf.get(a.subject) : undefined;
      return g ? { ...a, groupKey: labGroupKey(a.host, g) } : a;
    });
  }

  /**
   * Resolves once every anomaly is committed; rejects if any group could not be (the sender should
   * retry). `grouped`: the rule engine already put each in its subject's group (collectors), so the
   * lookup is not done twice.
   */
  async accept(given: Anomaly[], opts: { grouped?: boolean } = {}): Promise<Committed[]> {
    const anomalies = opts.grouped ? given : await this.#regroup(given);
    const groups = new Map<string, Anomaly[]>();
    for (const a of anomalies) {
      const g = groups.get(a.groupKey);
      if (g) g.push(a);
      else groups.set(a.groupKey, [a]);
      this.metrics.anomaliesReceived.inc({ source: a.source, status: a.status });
    }
    const committed: Committed[] = [];
    for (const batch of groups.values()) {
      const c = await this.store.ingest(batch);
      if (c) committed.push(c);
    }
    for (const c of committed) {
      const { incident } = c;
      if (!c.announce || !incident) {
        if (this.log.isLevelEnabled('debug')) this.log.debug({ incident: c.incidentId }, 'no material change: incident touched, no new work');
        continue;
      }
      // One line per revision would be a storm of its own: the opening and the end are news for the
      // log; the rest is debug, and the report says what changed.
      const level = incident.kind === 'updated' ? 'debug' : 'info';
      if (this.log.isLevelEnabled(level)) {
        const fields = { incident: incident.id, revision: incident.revision, kind: incident.kind, severity: incident.severity, title: incident.title, reportDue: new Date(c.due).toISOString() };
        this.log[level](incident.kind === 'opened' ? { ...fields, fingerprint: Object.keys(incident.anomalies) } : fields, `incident ${incident.kind}`);
      }
      this.#hold(incident.id, c.due, c.replaced);
    }
    return committed;
  }

  /** Keeps a committed report until it is due; the timer queues it then. */
  #hold(id: string, due: number, replaced?: number): void {
    const held = this.#held.get(id);
    if (!held && this.#held.size >= MAX_HELD) return; // in the outbox all the same: the sweep queues it
    // A job for the due time replaced exists only if it was queued (by a sweep, anywhere): removed.
    this.#held.set(id, { due, ...((held?.replaced ?? replaced) ? { replaced: held?.replaced ?? replaced } : {}) });
    this.#arm(due);
  }

  #arm(at: number): void {
    if (at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // unref: a command that commits a change (labwatch incidents resolve) need not wait for it to fall due.
    // clamped: Node fires a delay past 2^31 - 1 ms (24.8 days: a long group_interval) at once
    this.#timer = setTimeout(() => void this.#pump(), Math.min(2 ** 31 - 1, Math.max(0, at - Date.now()))).unref();
  }

  /** Queues the held reports that are due, in batches; re-arms the timer for the next one. */
  async #pump(): Promise<void> {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#pumping) return this.#arm(Date.now() + PUMP_GAP_MS);
    this.#pumping = true;
    const now = Date.now();
    const due: DueReport[] = [];
    let next = Infinity;
    for (const [id, h] of this.#held) {
      if (h.due > now) next = Math.min(next, h.due);
      else {
        due.push({ incidentId: id, ...h });
        this.#held.delete(id);
      }
    }
    try {
      for (let i = 0; i < due.length; i += BATCH) {
        const batch = due.slice(i, i + BATCH);
        if (await this.#enqueue(batch)) for (const r of batch) this.#queuedHere.add(`${r.incidentId}|${r.due}`);
      }
    } finally {
      this.#pumping = false;
      if (next < Infinity) this.#arm(Math.max(next, Date.now() + PUMP_GAP_MS));
    }
  }

  async #enqueue(reports: DueReport[]): Promise<boolean> {
    if (reports.length === 0) return true;
    try {
      await this.enqueue(reports);
      return true;
    } catch (err) {
      const incidents = reports.slice(0, 5).map((r) => r.incidentId);
      this.log.warn({ incidents, count: reports.length, err: (err as Error).message }, 'could not queue triage yet; the outbox sweeper will retry');
      return false;
    }
  }

  /**
   * Queues the reports in the outbox that fall due before the next sweep (held back until then),
   * whoever committed them. Safe to run anywhere, any time: a job already queued is a no-op.
   */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let queued = 0;
    try {
      const now = Date.now();
      const reports: DueReport[] = [];
      // Page by page: entries skipped here (held by this process's timer, queued but not yet
      // claimed) must not hide the ones behind them, such as what a killed process left.
      for (let offset = 0; reports.length < SWEEP_MAX; offset += PAGE) {
        const page = await this.store.pendingOutbox(PAGE, now + this.sweepEveryMs + 1000, offset);
        for (const { id, due } of page) {
          // This process's own are queued by its timer when due, unless it is behind.
          const held = this.#held.get(id);
          if ((held && held.due === due && due > now) || this.#queuedHere.has(`${id}|${due}`)) continue;
          this.#held.delete(id);
          reports.push({ incidentId: id, due, ...(now - due > LATE_MS ? { late: Math.floor(now / 60_000) } : {}) });
        }
        if (page.length < PAGE) break;
      }
      for (let i = 0; i < reports.length; i += BATCH) {
        const batch = reports.slice(i, i + BATCH);
        if (!(await this.#enqueue(batch))) break; // Redis is still away; try again next time
        queued += batch.length;
      }
      this.#queuedHere.clear();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'outbox sweep skipped: Redis unreachable');
    } finally {
      this.#sweeping = false;
    }
    if (queued) this.log.debug({ queued }, 'outbox sweep: incidents with news not yet reported are queued');
    return queued;
  }

  start(): void {
    void this.sweep();
    this.#stop = every(this.sweepEveryMs, () => this.sweep(), () => {}); // sweep() logs its own failures
  }

  /** What is held stays in the outbox: the next sweep, here after a restart or anywhere else, queues it. */
  stop(): void {
    this.#stop?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
