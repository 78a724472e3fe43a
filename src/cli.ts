/**
 * The command line: `labwatch run | check | version`. Output meant for people goes to stdout;
 * the daemon's logs go to stderr as JSON lines.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { Daemon } from './daemon.ts';
import { auditFile, buildNotifiers, buildProbes } from './registry.ts';
import { auditFileProblem } from './tools/audit.ts';
import { RuleLoadError } from './rules/load.ts';
import { configOrExit, secretsOf } from './cli/common.ts';
import { notifyTest } from './cli/notify.ts';
import { observe, rulesTest, rulesValidate } from './cli/watch.ts';
import { askCommand, auditShow, mcpStdio, toolsCall, toolsList } from './cli/tools.ts';
import { createLogger } from './telemetry/log.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

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

  // Without it tool calls still run and Redis keeps their record, but the file copy is lost.
  const audit = auditFile(cfg);
  const auditProblem = await auditFileProblem(audit);
  if (auditProblem) bad(`audit file: ${auditProblem}; fix its folder's permissions or set audit.file`);
  else ok(`audit file ${audit} (writable)`);

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
  for (const p of buildProbes(cfg, silent)) {
    try {
      ok(await p.probe());
    } catch (err) {
      bad(`${p.name}: ${(err as Error).message}`);
    }
  }
  if (problems.length) {
    process.stdout.write(`\n${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    process.exit(1);
  }
  process.stdout.write('\nall checks passed\n');
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

const tools = program.command('tools').description("labwatch's read-only diagnostic tools (the ones Claude uses)");
tools
  .command('list')
  .option('-c, --config <file>', 'YAML config file')
  .option('--json', 'as JSON, with annotations')
  .description('list the tools')
  .action(toolsList);
tools
  .command('call')
  .argument('<name>', 'tool name, e.g. smart_drive_health')
  .argument('[json]', "arguments as JSON, e.g. '{\"drive\":\"disk:WD-123\"}'")
  .option('-c, --config <file>', 'YAML config file')
  .option('-y, --yes', 'run a tool that changes something without asking (only tools enabled in config exist)')
  .description('run one tool and print its result; exit 1 if it failed (audited, caller cli)')
  .action(toolsCall);

program
  .command('ask')
  .argument('<question>', 'e.g. "what is wrong with tank?"')
  .option('-c, --config <file>', 'YAML config file')
  .description('ask Claude about the lab; it answers with the read-only tools (each call shown as it happens)')
  .action(askCommand);

program
  .command('audit')
  .option('-c, --config <file>', 'YAML config file')
  .option('--incident <id>', 'only calls made while triaging this incident')
  .option('-n, --count <n>', 'how many recent calls', '50')
  .option('-f, --follow', 'keep printing new calls')
  .description('show the audit trail of tool calls (caller, tool, outcome, time, size, arguments)')
  .action(auditShow);

program
  .command('mcp')
  .option('-c, --config <file>', 'YAML config file')
  .description('serve the tools over MCP on stdin/stdout, for Claude Desktop or Claude Code')
  .action(mcpStdio);

program
  .command('observe')
  .argument('<collector>', 'smart, zfs, host or prometheus')
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
