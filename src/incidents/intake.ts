/**
 * Where anomalies enter the core, from any source. Commits each group's change to Redis, then
 * queues triage for new revisions. The commit is the promise made to the sender: it already put
 * the revision in the outbox, so queueing happens after the answer, off the request path. If it
 * fails (Redis blip, crash) the revision stays in the outbox and the sweeper queues it later.
 * Job ids make double-queueing harmless.
 */
import type { Logger } from '../telemetry/log.ts';
import { every } from '../util/every.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { IncidentStore, Committed } from './store.ts';
import { isLabGroupKey, labGroupKey } from './fingerprint.ts';
import type { Anomaly } from './types.ts';

export type EnqueueTriage = (incidentId: string, revision: number) => Promise<void>;
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
      const log = this.log.child({ incident: incident.id, fingerprint: Object.keys(incident.anomalies) });
      log.info({ revision: incident.revision, kind: incident.kind, severity: incident.severity, title: incident.title }, `incident ${incident.kind}`);
      void this.#enqueue(incident.id, incident.revision, log);
    }
    return committed;
  }

  async #enqueue(id: string, revision: number, log: Logger): Promise<boolean> {
    try {
      await this.enqueue(id, revision);
      await this.store.clearOutbox(id, revision);
      return true;
    } catch (err) {
      log.warn({ revision, err: (err as Error).message }, 'could not queue triage yet; the outbox sweeper will retry');
      return false;
    }
  }

  /** Queues every revision still in the outbox. Safe to run anywhere, any time. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let queued = 0;
    try {
      for (const { id, revision } of await this.store.pendingOutbox()) {
        if (await this.#enqueue(id, revision, this.log.child({ incident: id }))) queued++;
        else break; // Redis is still away; try again next time
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'outbox sweep skipped: Redis unreachable');
    } finally {
      this.#sweeping = false;
    }
    if (queued) this.log.info({ queued }, 'outbox sweep queued revisions left behind');
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
