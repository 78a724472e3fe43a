/**
 * Where anomalies enter the core, from any source. Commits each group's change to Redis, then
 * queues the incident's next report for when it is due (group_wait / group_interval). The commit
 * is the promise made to the sender: it already put the incident in the outbox with its due time,
 * so queueing happens after the answer, off the request path. If it fails (Redis blip, crash) the
 * outbox keeps it and the sweeper queues it later. The job id is the incident and its due time,
 * so a storm of news about one incident queues one job, and double-queueing is harmless.
 */
import type { Logger } from '../telemetry/log.ts';
import { every } from '../util/every.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { IncidentStore, Committed } from './store.ts';
import { isLabGroupKey, labGroupKey } from '../connectors/identity.ts';
import type { Anomaly } from './types.ts';

/**
 * Queues the report of an incident for `due` (ms since the epoch; held back until then);
 * `replaced`: the later due time whose job it supersedes; `late`: set when the incident is long
 * overdue, to make a job id of its own (the minute) whatever became of the job for `due`.
 */
export type EnqueueTriage = (incidentId: string, due: number, replaced?: number, late?: number) => Promise<void>;
/** The group another connector placed each subject in (a disk in its pool), or null. */
export type GroupsOf = (subjects: string[]) => Promise<(string | null)[]>;

export class Intake {
  #stop: (() => void) | undefined;
  #sweeping = false;

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
      void this.#enqueue(incident.id, c.due, this.log, c.replaced);
    }
    return committed;
  }

  async #enqueue(id: string, due: number, log: Logger, replaced?: number, late?: number): Promise<boolean> {
    try {
      await this.enqueue(id, due, replaced, late);
      return true;
    } catch (err) {
      log.warn({ incident: id, err: (err as Error).message }, 'could not queue triage yet; the outbox sweeper will retry');
      return false;
    }
  }

  /** Queues every revision still in the outbox. Safe to run anywhere, any time. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let queued = 0;
    try {
      // Re-queueing an incident whose job is already queued is a no-op (same job id). One long
      // overdue gets a job of its own, once a minute, whatever became of the first.
      const now = Date.now();
      for (const { id, due } of await this.store.pendingOutbox()) {
        const late = now - due > 30_000 ? Math.floor(now / 60_000) : undefined;
        if (await this.#enqueue(id, due, this.log, undefined, late)) queued++;
        else break; // Redis is still away; try again next time
      }
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

  stop(): void {
    this.#stop?.();
  }
}
