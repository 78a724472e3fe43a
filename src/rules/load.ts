/**
 * Rule files (`rules/*.yaml`): loaded, validated and compiled at once. Every problem names the
 * file, the line and what is wrong; a set with any problem is refused whole, so a running daemon
 * keeps its old rules when a reload fails.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { issueMessage, issuePath } from '../util/zod.ts';
import { CelError, compileCondition, compileTemplate, type Condition, type Template } from './cel.ts';

const severity = z.enum(['critical', 'warning', 'info']);
/** How soon a person should act, as reports say it. */
const urgency = z.enum(['now', 'soon', 'when convenient']);
const forSpec = z.union([
  z.number().int().min(1).max(1000),
  z.string().regex(/^\d+(s|m|h|d)$/, 'a number of observations (e.g. 3) or a duration such as "10m", "2h", "1d"'),
]);

const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,80}$/, 'lower-case letters, digits and "-", e.g. smart-reallocated-sectors'),
  source: z.string().min(1),
  kind: z.string().min(1),
  /**
   * For sources that answer queries (prometheus): the query whose every returned series becomes
   * an observation for this rule alone, with `values.value` and the series' labels.
   */
  query: z.string().min(1).max(4000).optional(),
  /** the subject of each returned series, a template over values (e.g. "if:{{ values.device }}"); default: its labels */
  subject: z.string().min(1).optional(),
  /** CEL condition over values, prev, delta, rate, subject, host, now */
  when: z.string().min(1),
  for: forSpec.default(1),
  severity: severity,
  /** raise the severity while these CEL conditions hold (first match wins) */
  escalate: z.array(z.strictObject({ when: z.string().min(1), severity })).default([]),
  summary: z.string().min(1),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  runbook: z.string().url().optional(),
  /** what a person does about it, in the homelab's words; text is a template like summary */
  actions: z.array(z.strictObject({ text: z.string().min(1), urgency })).default([]),
  /** project when a growing value reaches a threshold, from its rate over the kept history */
  estimate: z.strictObject({ series: z.string().min(1), threshold: z.number(), unit: z.string().default('') }).optional(),
});

const fileSchema = z.strictObject({ rules: z.array(z.unknown()).min(1, 'a rule file lists at least one rule') });

export type RuleSpec = z.infer<typeof ruleSchema>;

export interface Rule extends Omit<RuleSpec, 'when' | 'escalate' | 'summary' | 'description' | 'for' | 'subject' | 'actions'> {
  file: string;
  line: number;
  when: Condition;
  escalate: { when: Condition; severity: RuleSpec['severity'] }[];
  summary: Template;
  description?: Template;
  subject?: Template;
  actions: { text: Template; urgency: RuleSpec['actions'][number]['urgency'] }[];
  /** consecutive observations the condition must hold */
  forCount: number;
  /** and for at least this long (ms) */
  forMs: number;
  /** the expression texts, for people (observe, rules test) */
  text: { when: string };
}

export interface RuleSet {
  rules: Rule[];
  files: string[];
}

export class RuleLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the rules:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RuleLoadError';
  }
}

function msOf(d: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(d)!;
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** The YAML files of a folder (or the one file given), sorted so load order is stable. */
function ruleFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

/** Compiles one rule's expressions, collecting every problem. */
function compile(spec: RuleSpec, where: (path: (string | number)[]) => string, problems: string[]): Omit<Rule, 'file' | 'line'> | null {
  const before = problems.length;
  const attempt = <T>(path: (string | number)[], fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      problems.push(`${where(path)}: ${path.join('.')}: ${e instanceof CelError ? e.message : String(e)}`);
      return undefined;
    }
  };
  const when = attempt(['when'], () => compileCondition(spec.when));
  const escalate = spec.escalate.map((e, i) => ({ when: attempt(['escalate', i, 'when'], () => compileCondition(e.when)), severity: e.severity }));
  const summary = attempt(['summary'], () => compileTemplate(spec.summary));
  const description = spec.description === undefined ? undefined : attempt(['description'], () => compileTemplate(spec.description!));
  const subject = spec.subject === undefined ? undefined : attempt(['subject'], () => compileTemplate(spec.subject!));
  const actions = spec.actions.map((a, i) => ({ text: attempt(['actions', i, 'text'], () => compileTemplate(a.text)), urgency: a.urgency }));
  if (spec.subject !== undefined && spec.query === undefined) problems.push(`${where(['subject'])}: subject: only a rule with a query names its subjects (collectors name theirs)`);
  if (problems.length > before || !when || !summary) return null;
  const { when: _w, escalate: _e, summary: _s, description: _d, subject: _sub, actions: _a, for: forSpec, ...rest } = spec;
  return {
    ...rest,
    when,
    escalate: escalate.map((e) => ({ when: e.when!, severity: e.severity })),
    summary,
    ...(description ? { description } : {}),
    ...(subject ? { subject } : {}),
    actions: actions.map((a) => ({ text: a.text!, urgency: a.urgency })),
    forCount: typeof forSpec === 'number' ? forSpec : 1,
    forMs: typeof forSpec === 'string' ? msOf(forSpec) : 0,
    text: { when: spec.when },
  };
}

/** Loads every rule file under `path`; throws RuleLoadError listing all problems. */
export function loadRules(path: string): RuleSet {
  const problems: string[] = [];
  const rules: Rule[] = [];
  const seen = new Map<string, string>();
  let files: string[];
  try {
    files = ruleFiles(path);
  } catch (e) {
    throw new RuleLoadError([`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a rule file or a folder of *.yaml files`]);
  }
  if (files.length === 0) throw new RuleLoadError([`${path}: no *.yaml rule files found`]);

  for (const file of files) {
    const lines = new LineCounter();
    const text = readFileSync(file, 'utf8');
    // A run of lone CRs takes the yaml library minutes (quadratic): refused before parsing.
    const cr = /\r(?!\n)/.exec(text);
    if (cr) {
      problems.push(`${file}:${text.slice(0, cr.index).split('\n').length}: a carriage return not followed by a line feed (old Mac line endings, or a damaged file); save the file with LF or CRLF line endings`);
      continue;
    }
    let doc: Document;
    let data: unknown;
    try {
      // the yaml library throws (not reports) a RangeError on a 20,000-deep line, a ReferenceError on an alias bomb
      doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
      data = doc.errors.length ? undefined : doc.toJS();
    } catch (e) {
      problems.push(`${file}: cannot be read as YAML (${(e as Error).message})`);
      continue;
    }
    if (doc.errors.length) {
      for (const e of doc.errors) problems.push(`${file}:${lines.linePos(e.pos[0]).line}: invalid YAML: ${e.message.split('\n')[0]}`);
      continue;
    }
    const top = fileSchema.safeParse(data);
    if (!top.success) {
      for (const i of top.error.issues) problems.push(`${file}:${lineOf(doc, lines, i.path as (string | number)[])}: ${issuePath(i.path) || '(top level)'}: ${issueMessage(i)}`);
      continue;
    }
    top.data.rules.forEach((raw, index) => {
      const where = (path: (string | number)[]) => `${file}:${lineOf(doc, lines, ['rules', index, ...path])}`;
      const parsed = ruleSchema.safeParse(raw);
      if (!parsed.success) {
        const id = (raw as { id?: unknown })?.id;
        for (const i of parsed.error.issues)
          problems.push(`${where(i.path as (string | number)[])}: rule ${typeof id === 'string' ? id : `#${index + 1}`}: ${issuePath(i.path) || 'rule'}: ${issueMessage(i)}`);
        return;
      }
      const spec = parsed.data;
      const dup = seen.get(spec.id);
      if (dup) {
        problems.push(`${where(['id'])}: rule id ${spec.id} is already used at ${dup}`);
        return;
      }
      seen.set(spec.id, where(['id']));
      const compiled = compile(spec, (p) => where(p), problems);
      if (compiled) rules.push({ ...compiled, file, line: lineOf(doc, lines, ['rules', index]) });
    });
  }
  if (problems.length) throw new RuleLoadError(problems);
  return { rules, files };
}
