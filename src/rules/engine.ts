/**
 * The stateful side of rules: per subject it keeps the last observation, a bounded history of
 * its numbers, and each rule's pending state, in Redis, so that change (delta, rate, `for:`)
 * survives restarts and is shared by every process.
 *
 * Keys: the rules families in keys.ts (obs:last, obs:hist, obs:latest, rule, groupof).
 */
import type { Redis } from 'ioredis';
import type { Anomaly } from '../connectors/types.ts';
import { keysOf, type StageKeys } from '../keys.ts';
import type { Logger } from '../telemetry/log.ts';
import { contextFor, evaluateRule, rulesFor, type RuleState, type Verdict } from './evaluate.ts';
import type { RuleSet } from './load.ts';
import { NetworkPaths } from './paths.ts';
import { historyKey, numericValues, overviewKey, pathKey, perHost, type HistoryPoint, type Latest, type Observation } from './observation.ts';

const HISTORY_MAX = 500;
const HISTORY_DAYS = 90;
const STATE_TTL_S = HISTORY_DAYS * 86400;

/** Where and when a subject was last observed (the obs:seen index). */
interface Seen {
  subject: string;
  kind: string;
  source: string;
  host: string;
  at: string;
}

export interface OutcomeLine {
  subject: string;
  rule: string;
  verdict: Verdict;
  severity?: string;
  summary?: string;
  error?: string;
}

export interface ObserveResult {
  anomalies: Anomaly[];
  outcomes: OutcomeLine[];
}

export class RuleEngine {
  #rules: RuleSet;
  readonly #key: StageKeys<'rules'>;
  readonly #paths: NetworkPaths;
  /** when this process last dropped stale subjects from obs:seen */
  #pruned = 0;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    rules: RuleSet,
    private readonly log: Logger,
    private readonly onOutcome: (o: OutcomeLine) => void = () => {},
    /** network.mtu_groups: path name → host:interface members */
    mtuGroups: Record<string, string[]> = {},
  ) {
    this.#rules = rules;
    this.#key = keysOf(prefix, 'rules');
    this.#paths = new NetworkPaths(redis, (path) => this.#key('netpath', path), mtuGroups);
  }

  get rules(): RuleSet {
    return this.#rules;
  }

  /** Swaps the rule set (on SIGHUP, after the new one loaded without problems). */
  replace(rules: RuleSet): void {
    this.#rules = rules;
  }

  /**
   * Evaluates the rules on each observation and records it. With `dryRun` nothing is written
   * (for `labwatch observe`, which shows what would fire without moving any state).
   */
  async observe(observations: Observation[], opts: { now?: Date; dryRun?: boolean } = {}): Promise<ObserveResult> {
    const now = opts.now ?? new Date();
    const anomalies: Anomaly[] = [];
    const outcomes: OutcomeLine[] = [];
    for (const given of observations) {
      let obs = await this.#paths.annotate(given, now, opts);
      const rules = rulesFor(this.#rules.rules, obs);
      const hk = historyKey(obs);
      const read = this.redis.pipeline();
      read.get(this.#key('obs:last', hk));
      read.lrange(this.#key('obs:hist', hk), 0, HISTORY_MAX - 1);
      read.get(this.#key('groupof', obs.subject));
      for (const r of rules) read.get(this.#key('rule', r.id, pathKey(obs)));
      const replies = (await read.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0]!;
      const [lastRaw, histRaw, groupOf, ...stateRaws] = replies.map(([, v]) => v);
      // A disk that another connector placed in a pool joins the pool's incident.
      if (!obs.group && typeof groupOf === 'string') obs = { ...obs, group: groupOf };
      const prev = lastRaw ? (JSON.parse(lastRaw as string) as Record<string, unknown>) : undefined;
      const oldest = now.getTime() - HISTORY_DAYS * 86_400_000;
      const history = (histRaw as string[])
        .map((h) => JSON.parse(h) as HistoryPoint)
        .filter((h) => Date.parse(h.at) >= oldest)
        .reverse();
      const ctx = contextFor(obs, prev, history, now);

      const write = this.redis.multi();
      const sharedResolves: { ruleId: string; anomaly: Anomaly }[] = [];
      rules.forEach((rule, i) => {
        const state = stateRaws[i] ? (JSON.parse(stateRaws[i] as string) as RuleState) : undefined;
        const outcome = evaluateRule(rule, obs, ctx, state);
        const line: OutcomeLine = {
          subject: obs.subject,
          rule: rule.id,
          verdict: outcome.verdict,
          ...(outcome.anomaly ? { severity: outcome.anomaly.severity, summary: outcome.anomaly.summary } : {}),
          ...(outcome.error ? { error: outcome.error } : {}),
        };
        outcomes.push(line);
        this.onOutcome(line);
        if (outcome.error) this.log.warn({ rule: rule.id, subject: obs.subject, err: outcome.error }, 'rule could not be evaluated; fix its condition (labwatch rules test)');
        // a drive (or a host's pool read both locally and through an API) is one anomaly on every
        // path: one path's "resolved" waits until no other path still fires it
        if (outcome.anomaly?.status === 'resolved' && (obs.subject.startsWith('disk:') || (perHost(obs) && !obs.subject.startsWith('collector:')))) sharedResolves.push({ ruleId: rule.id, anomaly: outcome.anomaly });
        else if (outcome.anomaly) anomalies.push(outcome.anomaly);
        const key = this.#key('rule', rule.id, pathKey(obs));
        if (outcome.state.count === 0 && !outcome.state.firing) write.del(key);
        else write.set(key, JSON.stringify(outcome.state), 'EX', STATE_TTL_S);
      });
      for (const r of sharedResolves) if (!(await this.#firingElsewhere(r.ruleId, obs))) anomalies.push(r.anomaly);
      if (obs.gone) write.del(this.#key('obs:last', hk), this.#key('obs:hist', hk)).hdel(this.#key('obs:seen'), hk);
      else {
        write.set(this.#key('obs:last', hk), JSON.stringify(obs.values), 'EX', STATE_TTL_S);
        write.hset(this.#key('obs:seen'), hk, JSON.stringify({ subject: obs.subject, kind: obs.kind, source: obs.source, host: obs.host, at: obs.at } satisfies Seen));
      }
      if (obs.group) for (const alias of obs.aliases ?? []) write.set(this.#key('groupof', alias), obs.group, 'EX', STATE_TTL_S);
      if (obs.summary !== undefined) {
        const latest: Latest = { subject: obs.subject, source: obs.source, kind: obs.kind, host: obs.host, at: obs.at, summary: obs.summary, ...(hk !== obs.subject ? { key: hk } : {}) };
        const arrow = trendArrow(obs, history, now);
        if (arrow) latest.arrow = arrow;
        write.hset(this.#key('obs:latest'), overviewKey(obs), JSON.stringify(latest));
      }
      const numbers = numericValues(obs.values);
      if (Object.keys(numbers).length && !obs.gone) {
        write.lpush(this.#key('obs:hist', hk), JSON.stringify({ at: obs.at, values: numbers } satisfies HistoryPoint));
        write.ltrim(this.#key('obs:hist', hk), 0, HISTORY_MAX - 1);
        write.expire(this.#key('obs:hist', hk), STATE_TTL_S);
      }
      if (!opts.dryRun) await write.exec();
    }
    // Subjects that went away (a deleted guest, a removed interface) leave the index within a day
    // of going stale, whether or not anyone opens the dashboard.
    if (!opts.dryRun && now.getTime() - this.#pruned > 3_600_000) {
      this.#pruned = now.getTime();
      await this.seen(now).catch((e: Error) => this.log.warn({ err: e.message }, 'could not prune the index of observed subjects; next try in an hour'));
    }
    return { anomalies, outcomes };
  }

  /** The latest reading of every subject that has a summary, for the digest. Stale ones (> 7 days) are dropped. */
  async latest(now = new Date()): Promise<Latest[]> {
    // the field is the subject, or subject@host for a per-host thing (overviewKey): delete by the field itself
    const entries = Object.entries(await this.redis.hgetall(this.#key('obs:latest'))).map(([field, v]) => ({ field, l: JSON.parse(v) as Latest }));
    const stale = entries.filter(({ l }) => now.getTime() - Date.parse(l.at) > 7 * 86_400_000);
    if (stale.length) await this.redis.hdel(this.#key('obs:latest'), ...stale.map((e) => e.field));
    return entries
      .filter((e) => !stale.includes(e))
      .map((e) => e.l)
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.subject.localeCompare(b.subject) || a.host.localeCompare(b.host));
  }

  /**
   * Every subject observed in the last 7 days, summary or not (a vdev, an interface), by where its
   * values are kept: what the dashboard lists. Older ones are dropped as they are found.
   */
  async seen(now = new Date()): Promise<(Seen & { key: string })[]> {
    const all = Object.entries(await this.redis.hgetall(this.#key('obs:seen'))).map(([key, v]) => ({ key, ...(JSON.parse(v) as Seen) }));
    const stale = all.filter((l) => now.getTime() - Date.parse(l.at) > 7 * 86_400_000);
    if (stale.length) await this.redis.hdel(this.#key('obs:seen'), ...stale.map((l) => l.key));
    return all.filter((l) => !stale.includes(l));
  }

  /** The groups other connectors put these subjects in (a disk in its pool), or null: so an alert about a disk joins its pool's incident. */
  async groupsOf(subjects: string[]): Promise<(string | null)[]> {
    if (subjects.length === 0) return [];
    return this.redis.mget(subjects.map((s) => this.#key('groupof', s)));
  }

  /**
   * Whether another path (smartctl here, an API elsewhere) still has `ruleId` firing on this
   * drive, or on this host's pool, filesystem or interface.
   */
  async #firingElsewhere(ruleId: string, obs: Observation): Promise<boolean> {
    const glob = (t: string) => t.replace(/[*?[\]\\]/g, '\\$&');
    const base = this.#key('rule', ruleId, obs.subject);
    const own = this.#key('rule', ruleId, pathKey(obs));
    // a drive: its bare key and `<subject>@<source>`; a per-host thing: `<subject>@<source>/<host>`
    const keys = new Set<string>(perHost(obs) ? [] : [base]);
    const pattern = perHost(obs) ? `${glob(base)}@*/${glob(obs.host)}` : `${glob(base)}@*`;
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
    keys.delete(own);
    if (keys.size === 0) return false;
    const states = await this.redis.mget([...keys]);
    return states.some((s) => s !== null && (JSON.parse(s) as RuleState).firing);
  }

  /** The lab's network paths (rules/paths.ts), for the network_paths tool. */
  get paths(): NetworkPaths {
    return this.#paths;
  }

  /** The last observed values under each history key (a subject, or one path's view of it): the dashboard's tables. */
  async lastValues(keys: string[]): Promise<(Record<string, unknown> | null)[]> {
    if (keys.length === 0) return [];
    const raw = await this.redis.mget(keys.map((k) => this.#key('obs:last', k)));
    return raw.map((r) => (r ? (JSON.parse(r) as Record<string, unknown>) : null));
  }

  /** The kept history of a subject, oldest first (for MCP tools and people). */
  async history(subject: string): Promise<HistoryPoint[]> {
    const raw = await this.redis.lrange(this.#key('obs:hist', subject), 0, HISTORY_MAX - 1);
    return raw.map((h) => JSON.parse(h) as HistoryPoint).reverse();
  }
}

/** The trend value now against the oldest reading of the last day (or the oldest kept). */
function trendArrow(obs: Observation, history: HistoryPoint[], now: Date): Latest['arrow'] {
  if (!obs.trend) return undefined;
  const cur = obs.values[obs.trend];
  if (typeof cur !== 'number') return undefined;
  const dayAgo = now.getTime() - 86_400_000;
  const base = history.find((h) => Date.parse(h.at) >= dayAgo && obs.trend! in h.values) ?? history.find((h) => obs.trend! in h.values);
  const before = base?.values[obs.trend];
  if (before === undefined) return undefined;
  return cur > before ? '↑' : cur < before ? '↓' : '→';
}
