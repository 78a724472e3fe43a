/** `labwatch check`: the config, Redis, the audit file, every notifier and every probe; exit 1 listing each problem. */
import { redisClient, safeRedisUrl } from '../util/redis.ts';
import { CONNECTORS } from '../connectors/index.ts';
import { auditFile, buildNotifiers, buildProbes, contextOf, whyNotReady } from '../registry.ts';
import { auditFileProblem } from '../tools/audit.ts';
import { createLogger } from '../telemetry/log.ts';
import { configOrExit } from './common.ts';

export async function check(opts: { config?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const problems: string[] = [];
  const ok = (what: string) => process.stdout.write(`ok    ${what}\n`);
  const bad = (what: string) => {
    problems.push(what);
    process.stdout.write(`FAIL  ${what}\n`);
  };
  ok(`config ${cfg.source}`);

  const redis = redisClient(cfg.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => {});
  const safeUrl = safeRedisUrl(cfg.redis.url);
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
      ok('notifications: no channel configured; reports will be written to the log');
      continue;
    }
    try {
      const note = await notifier.probe();
      ok(`notify ${channel}${note ? `: ${note}` : ''}`);
    } catch (err) {
      bad((err as Error).message);
    } finally {
      await notifier.close();
    }
  }
  // The systems labwatch reads itself: on and answering, off (not a problem), or on and broken.
  for (const connector of CONNECTORS.filter((c) => c.collectors && !c.probes)) {
    const ctx = contextOf(connector, cfg, { log: silent });
    if (!connector.enabled(ctx)) {
      process.stdout.write(`off   ${connector.name}: ${connector.description} (not enabled or not installed; see watch.${connector.name})\n`);
      continue;
    }
    const why = await whyNotReady(connector, ctx, 5000);
    if (why) bad(`${connector.name}: ${why}`);
    else ok(`${connector.name}: ${connector.description}`);
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
