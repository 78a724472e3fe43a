/**
 * Rule unit tests, like `promtool test rules`: given a sequence of observations of one subject,
 * expect exactly these anomalies after each step. Runs in memory with the same evaluation the
 * daemon uses, so a rule's test needs no Redis.
 *
 *   rule_files: [smart.yaml]          # relative to the test file; default: <name>.yaml beside it
 *   tests:
 *     - name: reallocated sectors grow
 *       source: smart
 *       kind: drive
 *       subject: disk:WD-1
 *       steps:
 *         - at: 2026-11-01T00:00:00Z     # or "+1d", "+30m" after the previous step
 *           values: { state: ok, reallocated_sectors: 0 }
 *           expect: []
 *         - at: +1d
 *           values: { reallocated_sectors: 4 }   # merged over the previous step's values (null removes one)
 *           expect: [{ rule: smart-reallocated-sectors, severity: warning, summary: "4 reallocated", action: "smartctl -t long" }]
 *
 * A query rule's series is tested with `rule: <id>` (observed for that rule alone) and a step may
 * say `gone: true` (the series is no longer returned).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import * as z from 'zod';
import { parse as parseYaml } from 'yaml';
import { issueMessage, issuePath } from '../util/zod.ts';
import { contextFor, evaluateRule, rulesFor, type RuleState } from './evaluate.ts';
import { loadRules, RuleLoadError, type Rule } from './load.ts';
import { numericValues, type HistoryPoint, type Observation } from './observation.ts';

const expectation = z.strictObject({
  rule: z.string(),
  status: z.enum(['firing', 'resolved']).default('firing'),
  severity: z.enum(['critical', 'warning', 'info']).optional(),
  /** substring of the rendered summary */
  summary: z.string().optional(),
  /** substring of the time estimate */
  estimate: z.string().optional(),
  /** substring of one of its rendered actions */
  action: z.string().optional(),
});

const testFile = z.strictObject({
  rule_files: z.array(z.string()).optional(),
  tests: z
    .array(
      z.strictObject({
        name: z.string(),
        source: z.string(),
        kind: z.string(),
        subject: z.string(),
        /** for a query rule: the series is observed for this rule alone, as its collector does */
        rule: z.string().optional(),
        host: z.string().default('testhost'),
        steps: z
          .array(
            z.strictObject({
              at: z.union([z.string(), z.date()]),
              values: z.record(z.string(), z.unknown()).default({}),
              /** the series is no longer returned */
              gone: z.boolean().default(false),
              expect: z.array(expectation),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

export interface TestResult {
  file: string;
  name: string;
  failures: string[];
}

const OFFSET = /^\+(\d+)(s|m|h|d)$/;

function nextTime(at: string | Date, prev: Date | undefined): Date {
  if (at instanceof Date) return at;
  const m = OFFSET.exec(at);
  if (m) {
    if (!prev) throw new Error(`"${at}" is relative, but it is the first step: give an absolute time`);
    return new Date(prev.getTime() + Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd']);
  }
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) throw new Error(`"${at}" is neither a timestamp nor an offset like +1d`);
  return t;
}

function runOne(rules: Rule[], t: z.infer<typeof testFile>['tests'][number]): string[] {
  const failures: string[] = [];
  const states = new Map<string, RuleState>();
  const history: HistoryPoint[] = [];
  let prev: Record<string, unknown> | undefined;
  let values: Record<string, unknown> = {};
  let time: Date | undefined;
  t.steps.forEach((step, i) => {
    time = nextTime(step.at, time);
    // null removes a value (what a collector stops reporting, e.g. a path that agrees again)
    values = Object.fromEntries(Object.entries({ ...values, ...step.values }).filter(([, v]) => v !== null));
    const obs: Observation = { source: t.source, kind: t.kind, subject: t.subject, host: t.host, at: time.toISOString(), values, ...(t.rule ? { rule: t.rule } : {}), ...(step.gone ? { gone: true } : {}) };
    const ctx = contextFor(obs, prev, history, time);
    const got = [];
    for (const rule of rulesFor(rules, obs)) {
      const out = evaluateRule(rule, obs, ctx, states.get(rule.id));
      states.set(rule.id, out.state);
      if (out.error) failures.push(`step ${i + 1}: ${out.error}`);
      if (out.anomaly) got.push(out.anomaly);
    }
    const where = `step ${i + 1} (${obs.at})`;
    for (const want of step.expect) {
      const match = got.find((a) => a.rule === want.rule && a.status === want.status);
      if (!match) {
        failures.push(`${where}: expected ${want.rule} ${want.status}, got ${got.length ? got.map((a) => `${a.rule} ${a.status}`).join(', ') : 'nothing'}`);
        continue;
      }
      if (want.severity && match.severity !== want.severity) failures.push(`${where}: ${want.rule}: severity ${match.severity}, expected ${want.severity}`);
      if (want.summary && !match.summary.includes(want.summary)) failures.push(`${where}: ${want.rule}: summary "${match.summary}" does not contain "${want.summary}"`);
      if (want.estimate && !(match.annotations.estimate ?? '').includes(want.estimate))
        failures.push(`${where}: ${want.rule}: estimate "${match.annotations.estimate ?? '(none)'}" does not contain "${want.estimate}"`);
      if (want.action && !(match.actions ?? []).some((a) => a.text.includes(want.action!)))
        failures.push(`${where}: ${want.rule}: no action contains "${want.action}" (actions: ${(match.actions ?? []).map((a) => `"${a.text}"`).join(', ') || 'none'})`);
    }
    for (const a of got)
      if (!step.expect.some((w) => w.rule === a.rule && w.status === a.status)) failures.push(`${where}: unexpected ${a.rule} ${a.status}: ${a.summary}`);
    history.push({ at: obs.at, values: numericValues(values) });
    prev = values;
  });
  return failures;
}

/** Runs one test file; problems with the file itself come back as a failed pseudo-test. */
export function runRuleTests(file: string): TestResult[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    return [{ file, name: '(file)', failures: [`cannot read: ${(e as Error).message.split('\n')[0]}`] }];
  }
  const parsed = testFile.safeParse(doc);
  if (!parsed.success) return [{ file, name: '(file)', failures: parsed.error.issues.map((i) => `${issuePath(i.path)}: ${issueMessage(i)}`) }];
  const ruleFiles = parsed.data.rule_files ?? [basename(file).replace(/\.test\.ya?ml$/, '.yaml')];
  const rules: Rule[] = [];
  try {
    for (const f of ruleFiles) rules.push(...loadRules(join(dirname(file), f)).rules);
  } catch (e) {
    const problems = e instanceof RuleLoadError ? e.problems : [(e as Error).message];
    return [{ file, name: '(rules)', failures: problems }];
  }
  return parsed.data.tests.map((t) => {
    try {
      return { file, name: t.name, failures: runOne(rules, t) };
    } catch (e) {
      return { file, name: t.name, failures: [(e as Error).message] };
    }
  });
}
