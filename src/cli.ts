/**
 * The command line: `labwatch run | check | version`. Output meant for people goes to stdout;
 * the daemon's logs go to stderr as JSON lines.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { Daemon, buildNotifiers } from './daemon.ts';
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
  const daemon = new Daemon(cfg, log);
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

program
  .command('version')
  .description('print the labwatch version')
  .action(() => {
    process.stdout.write(`labwatch ${pkg.version} (node ${process.version})\n`);
  });

await program.parseAsync(process.argv);
