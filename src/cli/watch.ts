/** `labwatch rules validate|test` and `labwatch observe`: looking at rules and readings without the daemon. */
import { hostname } from 'node:os';
import { CONNECTORS } from '../connectors/index.ts';
import { SHIPPED_RULES, contextOf } from '../registry.ts';
import { listed } from '../tools/describe.ts';
import { contextFor, evaluateRule, rulesFor } from '../rules/evaluate.ts';
import { RuleLoadError, loadRules } from '../rules/load.ts';
import { runRuleTests } from '../rules/testing.ts';
import { createLogger } from '../telemetry/log.ts';
import { configOrExit, secretsOf } from './common.ts';

export function rulesValidate(dir: string | undefined, opts: { config?: string }): void {
  const path = dir ?? (opts.config || process.env.LABWATCH_CONFIG ? configOrExit(opts.config).rules.dir : undefined) ?? SHIPPED_RULES;
  try {
    const set = loadRules(path);
    process.stdout.write(`ok: ${set.rules.length} rules in ${set.files.length} files (${path})\n`);
  } catch (e) {
    if (!(e instanceof RuleLoadError)) throw e;
    process.stdout.write(`${e.message}\n`);
    process.exit(1);
  }
}

export function rulesTest(files: string[]): void {
  let passed = 0;
  let failed = 0;
  for (const file of files)
    for (const r of runRuleTests(file)) {
      if (r.failures.length === 0) {
        passed++;
        process.stdout.write(`ok    ${file}: ${r.name}\n`);
      } else {
        failed++;
        process.stdout.write(`FAIL  ${file}: ${r.name}\n${r.failures.map((f) => `        ${f}`).join('\n')}\n`);
      }
    }
  process.stdout.write(`\nrule tests: ${passed} passed, ${failed} failed\n`);
  if (failed || passed === 0) process.exit(1);
}

/** Runs one collector now and shows what it sees and which rules hold on it (nothing is stored or sent). */
export async function observe(name: string, opts: { config?: string; json?: boolean }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const log = createLogger({ level: 'warn', secrets: secretsOf(cfg) });
  let rules;
  try {
    rules = loadRules(cfg.rules.dir ?? SHIPPED_RULES).rules;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  const all = rules;
  const polling = CONNECTORS.filter((c) => c.collectors);
  // a connector's name, or one of its collectors' (proxmox-disks: the Proxmox drive read)
  const connector = polling.find((c) => c.name === name) ?? polling.find((c) => name.startsWith(`${c.name}-`));
  const ctx = connector && contextOf(connector, cfg, { host: cfg.host ?? hostname(), log, rules: () => all });
  // A system that is off because its command is missing is read anyway, to show why.
  const collectors = connector && ctx && (connector.enabled(ctx) || connector.forceable) ? connector.collectors!(ctx) : [];
  const s = collectors.find((x) => x.collector.name === name) ?? (connector?.name === name ? collectors[0] : undefined);
  if (!s) {
    const why = connector ? `${name} is not configured here (set its ${name}: block, and watch.${name} if it has one)` : `no collector named ${name}`;
    process.stderr.write(`labwatch: ${why}; choose ${listed(polling.map((c) => c.name), 'or')} (${polling.map((c) => `${c.name}: ${c.description}`).join('; ')})\n`);
    process.exit(1);
  }
  let observations;
  try {
    observations = await s.collector.collect(AbortSignal.timeout(s.timeoutMs));
  } catch (e) {
    process.stderr.write(`labwatch: ${name}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const now = new Date();
  // Without history a rule sees this reading alone: `for:` and growth conditions cannot hold yet.
  const result = observations.map((o) => {
    const ctx = contextFor(o, undefined, [], now);
    const hits = rulesFor(rules, o)
      .map((r) => evaluateRule(r, o, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }))
      .filter((x) => x.anomaly || x.error)
      .map((x) => ({ rule: x.rule.id, ...(x.anomaly ? { severity: x.anomaly.severity, summary: x.anomaly.summary } : {}), ...(x.error ? { error: x.error } : {}) }));
    return { ...o, rules: hits };
  });
  if (opts.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  for (const o of result) {
    const shown = Object.entries(o.values)
      .filter(([, v]) => v !== '' && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && v.includes(' ') ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    process.stdout.write(`${o.subject}  ${shown}\n`);
    for (const h of o.rules) process.stdout.write(`    ${h.error ? 'ERROR' : h.severity!.toUpperCase()}  ${h.rule}: ${h.error ?? h.summary}\n`);
  }
  const firing = result.reduce((n, o) => n + o.rules.filter((r) => !('error' in r)).length, 0);
  process.stdout.write(`\n${result.length} observations, ${firing} rule${firing === 1 ? '' : 's'} holding now (growth and for: need history; the daemon keeps it)\n`);
}

