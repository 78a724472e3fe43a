/**
 * The command line: `labwatch run | check | version`. Output meant for people goes to stdout;
 * the daemon's logs go to stderr as JSON lines.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { Daemon, SHIPPED_RULES, buildCollectors, buildNotifiers } from './daemon.ts';
import { contextFor, evaluateRule, rulesFor } from './rules/evaluate.ts';
import { RuleLoadError, loadRules } from './rules/load.ts';
import { runRuleTests } from './rules/testing.ts';
import { messageFor } from './notify/render.ts';
import { createLogger } from './telemetry/log.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function configOrExit(file: string | undefined): Config {
  try {
    return loadConfig(file ?? process.env.LABWATCH_CONFIG);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`labwatch: invalid configuration\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

function secretsOf(cfg: Config): string[] {
  return Object.values(cfg.secrets).filter((v): v is string => typeof v === 'string');
}

async function run(opts: { config?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const log = createLogger({ level: cfg.log.level, secrets: secretsOf(cfg) });
  let daemon: Daemon;
  try {
    daemon = new Daemon(cfg, log);
  } catch (e) {
    if (!(e instanceof RuleLoadError)) throw e;
    process.stderr.write(`labwatch: the rules are invalid, not starting\n${e.message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    daemon.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err: (err as Error).message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => void daemon.reloadRules());
  if (cfg.source === 'defaults') {
    log.warn(
      { redis: cfg.redis.url, listen: cfg.http.listen },
      'no config file given (--config FILE or LABWATCH_CONFIG): using defaults; notifications are written to this log',
    );
  }
  try {
    await daemon.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `${cfg.http.listen} is already in use; change http.listen` : e.message;
    log.fatal({ err: why }, 'labwatch could not start');
    await daemon.stop().catch(() => {});
    process.exit(1);
  }
}

async function check(opts: { config?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const problems: string[] = [];
  const ok = (what: string) => process.stdout.write(`ok    ${what}\n`);
  const bad = (what: string) => {
    problems.push(what);
    process.stdout.write(`FAIL  ${what}\n`);
  };
  ok(`config ${cfg.source}`);

  const redis = new Redis(cfg.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => {});
  const safeUrl = cfg.redis.url.replace(/:[^:@/]*@/, ':[REDACTED]@');
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    if (Number(version.split('.')[0]) < 5) bad(`Redis ${safeUrl} is version ${version}; labwatch needs 5 or later (6.2+ recommended)`);
    else ok(`Redis ${safeUrl} (version ${version})`);
  } catch (err) {
    bad(`Redis ${safeUrl}: ${(err as Error).message}; is redis-server running and redis.url right?`);
  } finally {
    redis.disconnect();
  }

  const silent = createLogger({ level: 'silent' });
  for (const [channel, notifier] of buildNotifiers(cfg, silent)) {
    if (channel === 'log') {
      ok('notifications: no email or ntfy configured; reports will be written to the log');
      continue;
    }
    try {
      await notifier.probe();
      ok(`notify ${channel}`);
    } catch (err) {
      bad((err as Error).message);
    } finally {
      await notifier.close();
    }
  }
  if (problems.length) {
    process.stdout.write(`\n${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    process.exit(1);
  }
  process.stdout.write('\nall checks passed\n');
}

function rulesValidate(dir: string | undefined, opts: { config?: string }): void {
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

function rulesTest(files: string[]): void {
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
async function observe(name: string, opts: { config?: string; json?: boolean }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const log = createLogger({ level: 'warn', secrets: secretsOf(cfg) });
  const forced = { ...cfg, watch: { ...cfg.watch, smart: { ...cfg.watch.smart, enabled: true }, zfs: { ...cfg.watch.zfs, enabled: true }, host: { ...cfg.watch.host, enabled: true } } };
  const s = buildCollectors(forced, (await import('node:os')).hostname(), log).find((x) => x.collector.name === name);
  if (!s) {
    process.stderr.write(`labwatch: no collector named ${name}; choose smart, zfs or host\n`);
    process.exit(1);
  }
  let rules;
  try {
    rules = loadRules(cfg.rules.dir ?? SHIPPED_RULES).rules;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
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

/** A report that says it is a test, sent through each channel's real notifier. */
function testReport(host: string): import('./triage/report.ts').Report {
  const now = new Date().toISOString();
  return {
    incidentId: `test-${Date.now().toString(36)}`,
    revision: 1,
    kind: 'opened',
    producer: 'deterministic',
    severity: 'info',
    host,
    title: 'labwatch test message',
    summary: 'If you can read this, labwatch can reach you on this channel. Nothing is wrong.',
    changes: [],
    facts: [{ text: `Sent by labwatch notify test from ${host} at ${now}` }],
    causes: [],
    actions: [],
    alerts: [],
    links: [],
    openedAt: now,
    since: now,
    createdAt: now,
    notes: [],
  };
}

async function notifyTest(opts: { config?: string; channel?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const notifiers = buildNotifiers(cfg, createLogger({ level: 'silent' }));
  const chosen = [...notifiers.entries()].filter(([ch]) => ch !== 'log' && (!opts.channel || ch === opts.channel));
  if (chosen.length === 0) {
    process.stderr.write(opts.channel ? `labwatch: channel ${opts.channel} is not configured (notify.${opts.channel} in ${cfg.source})\n` : `labwatch: no email or ntfy configured in ${cfg.source}\n`);
    process.exit(1);
  }
  const report = testReport((await import('node:os')).hostname());
  let failed = 0;
  for (const [channel, notifier] of chosen) {
    const t0 = Date.now();
    try {
      const ref = await notifier.send(messageFor(report));
      process.stdout.write(`ok    ${channel}: delivered in ${Date.now() - t0} ms${ref ? ` (${ref})` : ''}\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`FAIL  ${(e as Error).message}\n`);
    } finally {
      await notifier.close();
    }
  }
  if (failed) process.exit(1);
}

const program = new Command()
  .name('labwatch')
  .description('AI-assisted monitoring for homelabs: alerts in, one clear report out.')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError();

program
  .command('run')
  .description('run the daemon: webhook intake, incidents, queues, notifications')
  .option('-c, --config <file>', 'YAML config file (default: $LABWATCH_CONFIG, else built-in defaults)')
  .action(run);

program
  .command('check')
  .description('validate the config and probe Redis, SMTP and ntfy; exit 1 listing every problem')
  .option('-c, --config <file>', 'YAML config file (default: $LABWATCH_CONFIG, else built-in defaults)')
  .action(check);

const rules = program.command('rules').description('check and test rule files');
rules
  .command('validate')
  .argument('[dir]', 'a rule file or a folder of *.yaml (default: rules.dir from the config, else the shipped rules)')
  .option('-c, --config <file>', 'YAML config file')
  .description('load every rule, type-check its expressions; exit 1 listing each problem with file and line')
  .action(rulesValidate);
rules
  .command('test')
  .argument('<files...>', 'rule test files (*.test.yaml)')
  .description('run rule unit tests: given observations, expect these anomalies (like promtool test rules)')
  .action(rulesTest);

program
  .command('notify')
  .description('notification channels')
  .command('test')
  .option('-c, --config <file>', 'YAML config file')
  .option('--channel <name>', 'email or ntfy (default: every configured channel)')
  .description('send a test message through the real notifiers; print success or the exact failure; exit 1 on failure')
  .action(notifyTest);

program
  .command('observe')
  .argument('<collector>', 'smart, zfs or host')
  .option('-c, --config <file>', 'YAML config file')
  .option('--json', 'print observations and rule results as JSON')
  .description('read one system now and show what labwatch sees and which rules hold (stores and sends nothing)')
  .action(observe);

program
  .command('version')
  .description('print the labwatch version')
  .action(() => {
    process.stdout.write(`labwatch ${pkg.version} (node ${process.version})\n`);
  });

await program.parseAsync(process.argv);
