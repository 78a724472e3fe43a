/** `labwatch run`: the daemon in the foreground, stopped cleanly by SIGTERM/SIGINT, rules reloaded on SIGHUP. */
import { Daemon } from '../daemon.ts';
import { RuleLoadError } from '../rules/load.ts';
import { createLogger } from '../telemetry/log.ts';
import { configOrExit, secretsOf } from './common.ts';

export async function run(opts: { config?: string; role?: string; host?: string }): Promise<void> {
  const cfg = configOrExit(opts.config, opts);
  const log = createLogger({ level: cfg.log.level, secrets: secretsOf(cfg) });
  let daemon: Daemon;
  try {
    daemon = new Daemon(cfg, log);
  } catch (e) {
    // what the parts refuse at construction (invalid rules, an unreadable ca_file) is a line to fix, not a stack trace
    if (e instanceof RuleLoadError) process.stderr.write(`labwatch: the rules are invalid, not starting\n${e.message}\n`);
    else process.stderr.write(`labwatch: not starting: ${(e as Error).message}\n`);
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
