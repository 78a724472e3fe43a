/**
 * `npm run eval`: every scenario through the real daemon path, scored. The deterministic half
 * always runs; the model half runs too when ANTHROPIC_API_KEY or LABWATCH_EVAL_BASE_URL is set
 * (LABWATCH_EVAL_MODEL picks the model). Exit 1 when the deterministic half finds < 90 % of the
 * expected facts or any control raises an alarm, unless --no-gate.
 *   --only TEXT     only scenarios whose id contains TEXT
 *   --parallel N    labs at once (default 2)
 *   --misses        list every fact not found, with the pattern
 *   --show          print each scenario's scored text (after stripping)
 */
import { parseArgs } from 'node:util';
import { loadScenarios } from './scenario.ts';
import { runAll, type ModelSetup, type Outcome } from './run.ts';
import { wilsonLower } from './score.ts';

const GATE = 0.9;
const CATEGORIES = ['smart', 'zfs', 'alerts', 'controls'] as const;

const { values: args } = parseArgs({
  options: { 'no-gate': { type: 'boolean' }, only: { type: 'string' }, parallel: { type: 'string' }, misses: { type: 'boolean' }, show: { type: 'boolean' } },
});

const pct = (k: number, n: number) => (n === 0 ? '  -  ' : `${((100 * k) / n).toFixed(1).padStart(5)} %`);
const found = (o: Outcome) => o.facts.filter((f) => f.found).length;
const alarm = (o: Outcome) => o.incidents > 0 || o.messages > 0;

/** The table of one half; returns its totals. */
function table(label: string, outcomes: Outcome[], model = false): { k: number; n: number; falseAlarms: number } {
  console.log(`\n## ${label}\n`);
  const head = ['scenario', 'facts', 'found', 'incidents', 'messages', ...(model ? ['report by', 'tokens in/out', 'cost $', 'latency s'] : [])];
  const rows = outcomes.map((o) => [
    o.scenario.id,
    o.scenario.expect === 'silent' ? (alarm(o) ? 'ALARM' : 'silent') : `${found(o)}/${o.facts.length}`,
    o.scenario.expect === 'silent' ? '' : pct(found(o), o.facts.length),
    String(o.incidents),
    String(o.messages),
    ...(model ? [o.producer === 'ai' ? 'model' : 'fallback', `${o.tokens.input}/${o.tokens.output}`, o.costUsd.toFixed(4), (o.latencyMs / 1000).toFixed(1)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  for (const o of outcomes) if (o.error) console.log(`  ! ${o.scenario.id}: ${o.error}`);

  console.log('\n| category | scenarios | facts found | rate | silent controls |');
  console.log('|---|---|---|---|---|');
  let k = 0;
  let n = 0;
  for (const c of CATEGORIES) {
    const of = outcomes.filter((o) => o.scenario.category === c);
    if (!of.length) continue;
    const ck = of.reduce((a, o) => a + found(o), 0);
    const cn = of.reduce((a, o) => a + o.facts.length, 0);
    const controls = of.filter((o) => o.scenario.expect === 'silent');
    k += ck;
    n += cn;
    console.log(`| ${c} | ${of.length} | ${cn ? `${ck}/${cn}` : '-'} | ${pct(ck, cn)} | ${controls.length ? `${controls.filter((o) => !alarm(o)).length}/${controls.length}` : '-'} |`);
  }
  const falseAlarms = outcomes.filter((o) => o.scenario.expect === 'silent' && alarm(o)).length;
  console.log(`\npass rate ${k}/${n} = ${pct(k, n).trim()} (95 % Wilson lower bound ${pct(Math.round(wilsonLower(k, n) * 1000), 1000).trim()}); false alarms on controls: ${falseAlarms}`);
  if (model) {
    const tin = outcomes.reduce((a, o) => a + o.tokens.input, 0);
    const tout = outcomes.reduce((a, o) => a + o.tokens.output, 0);
    console.log(`tokens ${tin} in, ${tout} out; cost $${outcomes.reduce((a, o) => a + o.costUsd, 0).toFixed(4)}`);
  }
  if (args.show) for (const o of outcomes) console.log(`\n----- ${o.scenario.id}\n${o.text}`);
  if (args.misses)
    for (const o of outcomes) for (const f of o.facts.filter((x) => !x.found)) console.log(`  missed ${o.scenario.id} · ${f.name}: ${f.pattern}`);
  return { k, n, falseAlarms };
}

const scenarios = loadScenarios().filter((s) => !args.only || s.id.includes(args.only));
const parallel = Number(args.parallel ?? 2);
const t0 = Date.now();
const det = await runAll(scenarios, parallel);
const d = table(`deterministic report (no model), ${new Date().toISOString().slice(0, 10)}`, det);

const model: ModelSetup | undefined =
  process.env.ANTHROPIC_API_KEY || process.env.LABWATCH_EVAL_BASE_URL
    ? {
        ...(process.env.ANTHROPIC_API_KEY ? { key: process.env.ANTHROPIC_API_KEY } : {}),
        ...(process.env.LABWATCH_EVAL_BASE_URL ? { baseUrl: process.env.LABWATCH_EVAL_BASE_URL } : {}),
        ...(process.env.LABWATCH_EVAL_MODEL ? { model: process.env.LABWATCH_EVAL_MODEL } : {}),
      }
    : undefined;
if (model) table(`with a model (${model.model ?? 'default model'}${model.baseUrl ? ` at ${model.baseUrl}` : ''})`, await runAll(scenarios, parallel, model), true);
else console.log('\n(model half skipped: set ANTHROPIC_API_KEY or LABWATCH_EVAL_BASE_URL to run it)');
console.log(`\n${scenarios.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const failed = d.n > 0 && d.k / d.n < GATE ? `the deterministic report found ${pct(d.k, d.n).trim()} of facts (gate: ${GATE * 100} %)` : d.falseAlarms ? `${d.falseAlarms} control(s) raised an alarm` : '';
if (failed && !args['no-gate']) {
  console.error(`eval gate failed: ${failed}`);
  process.exit(1);
}
process.exit(0);
