/**
 * Rule evaluation as a pure function: an observation, what came before it (previous values,
 * history, each rule's pending state) and the rules in; verdicts, anomalies and the next state
 * out. Like Prometheus, a condition must hold for `for:` (observations and/or time) before it
 * fires, and a firing rule whose condition stops holding is resolved once.
 */
import { labGroupKey, stableHash } from '../connectors/identity.ts';
import type { Anomaly, Link } from '../connectors/types.ts';
import type { CelContext } from './cel.ts';
import type { Rule } from './load.ts';
import { numericValues, perHost, type HistoryPoint, type Observation } from './observation.ts';

/** Per rule and subject: how long the condition has held, and whether it fired. */
export interface RuleState {
  since?: string;
  count: number;
  firing: boolean;
  /** how long the condition has held, summed from the gaps between readings (ms); absent in state from older versions */
  heldMs?: number;
  /** the last reading's time */
  last?: string;
}

/**
 * How long a condition has held after this reading: the time held so far plus the gap since the
 * last reading, less any step of the wall clock the watcher measured in between (an NTP step of
 * an hour must not fire a `for: 10m` rule at once), and never negative (a step back). Without a
 * measured step, the wall clock's gap counts in full: readings late or uneven still add up.
 */
function heldFor(prior: RuleState, obs: Observation): number {
  if (!prior.last) return 0;
  const gap = Date.parse(obs.at) - Date.parse(prior.last) - (obs.clockStepMs ?? 0);
  return (prior.heldMs ?? 0) + Math.max(0, gap);
}

export type Verdict = 'firing' | 'resolved' | 'pending' | 'inactive' | 'error';

export interface RuleOutcome {
  rule: Rule;
  verdict: Verdict;
  state: RuleState;
  anomaly?: Anomaly;
  error?: string;
}

const DAY_MS = 86_400_000;
/** A rate over less than this is noise, not a trend. */
const MIN_RATE_SPAN_MS = 60_000;

/** Numeric change since the previous observation. */
export function deltas(values: Record<string, unknown>, prev: Record<string, unknown>): Record<string, number> {
  const now = numericValues(values);
  const before = numericValues(prev);
  // Own keys only: a value named `constructor` has no previous value just because objects have one.
  return Object.fromEntries(Object.keys(now).filter((k) => Object.hasOwn(before, k)).map((k) => [k, now[k]! - before[k]!]));
}

/** Change per day of each numeric value over the history (oldest to newest point, current included). */
export function rates(history: HistoryPoint[], current: HistoryPoint): Record<string, number> {
  const out: [string, number][] = [];
  const points = [...history, current];
  for (const k of Object.keys(current.values)) {
    const first = points.find((p) => Object.hasOwn(p.values, k));
    if (!first || first === current) continue;
    const span = Date.parse(current.at) - Date.parse(first.at);
    if (span < MIN_RATE_SPAN_MS) continue;
    out.push([k, ((current.values[k]! - first.values[k]!) / span) * DAY_MS]);
  }
  return Object.fromEntries(out);
}

export function contextFor(obs: Observation, prev: Record<string, unknown> | undefined, history: HistoryPoint[], now: Date): CelContext {
  const current: HistoryPoint = { at: obs.at, values: numericValues(obs.values) };
  return {
    values: obs.values,
    prev: prev ?? {},
    delta: prev ? deltas(obs.values, prev) : {},
    rate: rates(history, current),
    subject: obs.subject,
    host: obs.host,
    now,
  };
}

function fmt(n: number): string {
  return Math.abs(n) >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

/** "reallocated_sectors grows by 8/day; at this rate it reaches 16 in about 0.5 days (around 2026-11-25)". */
export function estimateText(rule: Rule, ctx: CelContext): string | undefined {
  const e = rule.estimate;
  if (!e) return undefined;
  const cur = Object.hasOwn(ctx.values, e.series) ? ctx.values[e.series] : undefined;
  const rate = Object.hasOwn(ctx.rate, e.series) ? ctx.rate[e.series] : undefined;
  if (typeof cur !== 'number' || rate === undefined) return undefined;
  const unit = e.unit ? ` ${e.unit}` : '';
  if (cur >= e.threshold) return `${e.series} is ${fmt(cur)}${unit}, at or past ${fmt(e.threshold)}${unit}`;
  if (rate <= 0) return undefined;
  const days = (e.threshold - cur) / rate;
  const when = new Date(ctx.now.getTime() + days * DAY_MS).toISOString().slice(0, 10);
  return `${e.series} grows by ${fmt(rate)}${unit}/day; at this rate it reaches ${fmt(e.threshold)}${unit} in about ${fmt(days)} days (around ${when})`;
}

/**
 * A rule anomaly's identity. A subject names a thing on the machine labwatch runs on; one read for
 * another host through an API (`reading`: a cluster node's rpool) is that host's, so its node
 * joins the identity — except a drive, whose serial names it anywhere, so a disk seen by smartctl
 * and by the Proxmox API is one anomaly.
 */
function ruleFingerprint(ruleId: string, obs: Observation): string {
  return stableHash(perHost(obs) ? ['rule', ruleId, obs.subject, obs.host] : ['rule', ruleId, obs.subject]);
}

function anomalyOf(rule: Rule, obs: Observation, ctx: CelContext, status: 'firing' | 'resolved', severity: Rule['severity'], since: string): Anomaly {
  const estimate = status === 'firing' ? estimateText(rule, ctx) : undefined;
  const annotations: Record<string, string> = {};
  const description = rule.description?.(ctx);
  if (description) annotations.description = description;
  if (estimate) annotations.estimate = estimate;
  const links: Link[] = rule.runbook ? [{ title: 'Runbook', url: rule.runbook }] : [];
  const actions = status === 'firing' ? rule.actions.map((a) => ({ text: a.text(ctx), urgency: a.urgency })) : [];
  return {
    fingerprint: ruleFingerprint(rule.id, obs),
    source: obs.source,
    rule: rule.id,
    severity,
    subject: obs.subject,
    host: obs.host,
    summary: rule.summary(ctx),
    ...(description ? { description } : {}),
    labels: { ...rule.labels, rule: rule.id, subject: obs.subject, host: obs.host, source: obs.source },
    annotations,
    links,
    ...(actions.length ? { actions } : {}),
    status,
    startsAt: since,
    ...(status === 'resolved' ? { endsAt: obs.at } : {}),
    groupKey: labGroupKey(obs.host, obs.group ?? obs.subject),
  };
}

/** Evaluates one rule against one observation. Never throws: a failing expression is an "error" verdict. */
export function evaluateRule(rule: Rule, obs: Observation, ctx: CelContext, state: RuleState | undefined): RuleOutcome {
  const prior: RuleState = state ?? { count: 0, firing: false };
  let holds: boolean;
  try {
    holds = obs.gone ? false : rule.when(ctx);
  } catch (e) {
    return { rule, verdict: 'error', state: prior, error: `${rule.id} on ${obs.subject}: ${(e as Error).message.split('\n')[0]}` };
  }
  if (!holds) {
    const resolved = prior.firing;
    return {
      rule,
      verdict: resolved ? 'resolved' : 'inactive',
      state: { count: 0, firing: false },
      ...(resolved ? { anomaly: anomalyOf(rule, obs, ctx, 'resolved', rule.severity, prior.since ?? obs.at) } : {}),
    };
  }
  const since = prior.since ?? obs.at;
  const count = prior.count + 1;
  // state written before heldMs existed: the wall-clock difference, as it was measured then
  const heldMs = prior.since && prior.heldMs === undefined ? Date.parse(obs.at) - Date.parse(prior.since) : heldFor(prior, obs);
  const firing = prior.firing || (count >= rule.forCount && heldMs >= rule.forMs);
  const next: RuleState = { since, count, firing, heldMs, last: obs.at };
  if (!firing) return { rule, verdict: 'pending', state: next };
  let severity = rule.severity;
  for (const e of rule.escalate) {
    try {
      if (e.when(ctx)) {
        severity = e.severity;
        break;
      }
    } catch {
      /* an escalation that cannot be evaluated does not escalate */
    }
  }
  return { rule, verdict: 'firing', state: next, anomaly: anomalyOf(rule, obs, ctx, 'firing', severity, since) };
}

/** The rules that apply to an observation. */
export function rulesFor(rules: Rule[], obs: Observation): Rule[] {
  if (obs.rule) return rules.filter((r) => r.id === obs.rule);
  return rules.filter((r) => !r.query && (r.source === '*' || r.source === obs.source || r.source === obs.reading) && r.kind === obs.kind);
}
