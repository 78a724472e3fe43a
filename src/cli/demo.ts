/**
 * `labwatch demo`: the whole path in a minute, on any machine, without root, disks or an API key.
 * The real daemon starts under a private Redis prefix, with stand-in smartctl and zpool (demo/bin)
 * replaying real captures of a failing drive and a degraded pool (demo/SOURCES.md) through the real
 * exec path; a real Alertmanager payload is posted to its webhook. The collectors run once, at
 * once; when nothing is left to send, the reports are printed as a person would get them, and sent
 * to the channels of `--config` when it has any. Then its temporary folder and Redis keys go.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { redisClient, safeRedisUrl } from '../util/redis.ts';
import { parse, stringify } from 'yaml';
import { CONNECTORS } from '../connectors/index.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { secretValues, type Config } from '../config/schema.ts';
import { Daemon } from '../daemon.ts';
import { RuleLoadError } from '../rules/load.ts';
import { render } from '../notify/render.ts';
import type { QueueName } from '../queue/index.ts';
import { createLogger } from '../telemetry/log.ts';

const DEMO = fileURLToPath(new URL('../../demo/', import.meta.url));
/** A schedule that never comes round during a demo: the collectors run once, now, by hand. */
const NEVER = '0 0 1 1 *';

const say = (line = '') => process.stdout.write(`${line}\n`);

/**
 * The demo's config: the user's file (or nothing) with labwatch's watching pointed at the
 * stand-ins and every other system off, a private Redis prefix, an ephemeral port and reports sent
 * at once. Channels, routes, Redis URL and the Anthropic block stay as the user set them.
 */
function demoConfig(userFile: string | undefined, dir: string, prefix: string): Config {
  const raw = (userFile ? (parse(readFileSync(userFile, 'utf8')) as Record<string, unknown> | null) : null) ?? {};
  const block = (k: string) => ((raw[k] ??= {}) as Record<string, unknown>);
  block('redis').prefix = prefix;
  Object.assign(block('http'), { listen: '127.0.0.1:0' });
  const notify = block('notify');
  Object.assign(notify, { group_wait: '0s', group_interval: '0s' });
  // Sent now, and with no link into the user's own labwatch, which never saw these incidents.
  delete notify.quiet_hours;
  delete notify.public_url;
  const watch: Record<string, unknown> = { jitter: '0s' };
  for (const c of CONNECTORS) if (c.watch) watch[c.name] = { enabled: false };
  watch.smart = { enabled: true, schedule: NEVER, smartctl: join(DEMO, 'bin', 'smartctl') };
  watch.zfs = { enabled: true, schedule: NEVER, zpool: join(DEMO, 'bin', 'zpool') };
  raw.watch = watch;
  // The user's external MCP servers are not part of the demo.
  block('mcp').servers = [];
  block('audit').file = join(dir, 'audit.jsonl');
  Object.assign(block('queue'), { shutdown_timeout: '5s' });
  const file = join(dir, 'labwatch-demo.yaml');
  writeFileSync(file, stringify(raw), { mode: 0o600 });
  return loadConfig(file);
}

/** Whether Redis answers at `url` within a couple of seconds (no retries: a demo says so at once). */
async function redisAnswers(url: string): Promise<string | null> {
  const r = redisClient(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED…) says more than connect()'s "Connection is closed".
  let first: string | undefined;
  r.on('error', (e: Error) => (first ??= e.message));
  try {
    await r.connect();
    return (await r.ping()) === 'PONG' ? null : 'it did not answer PING';
  } catch (e) {
    return first ?? (e as Error).message;
  } finally {
    r.disconnect();
  }
}

/**
 * Waits until nothing is left to send soon: no incident news due in the outbox and no triage,
 * notify or digest job waiting, running or due within `horizonMs` (a held job, like the next
 * digest, does not count). The same test as the suite's `drained`, so no sleep guesses the time.
 */
async function drained(daemon: Daemon, prefix: string, timeoutMs: number, horizonMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const soon = Date.now() + horizonMs;
    let busy = (await daemon.redis.zcount(`${prefix}:outbox`, '-inf', soon)) > 0;
    if (!busy)
      for (const [name, c] of Object.entries(await daemon.queues.counts())) {
        if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) > 0) busy = true;
        else if ((c.delayed ?? 0) > 0 && (await daemon.queues.delayed(name as QueueName)).some((j) => j.runAt <= soon)) busy = true;
        if (busy) break;
      }
    if (!busy) return;
    if (Date.now() > deadline) throw new Error(`the reports were not all made within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deletes every key under `prefix`; returns how many there were. */
async function removeKeys(url: string, prefix: string): Promise<number> {
  const r = redisClient(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  await r.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return removed;
}

export async function demo(opts: { config?: string }): Promise<void> {
  const prefix = `labwatch-demo-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-demo-'));
  let cfg: Config;
  try {
    cfg = demoConfig(opts.config ?? process.env.LABWATCH_CONFIG, dir, prefix);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`labwatch demo: invalid configuration\n${e.message}\n`);
    process.exit(1);
  }
  const safeUrl = safeRedisUrl(cfg.redis.url);
  const down = await redisAnswers(cfg.redis.url);
  if (down) {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(
      `labwatch demo needs Redis, and none answers at ${safeUrl} (${down}).\n` +
        '  Start one: `bash scripts/setup-and-run.sh` installs and starts redis-server on 127.0.0.1:6379 (then runs\n' +
        '  labwatch: stop it with Ctrl-C and run the demo again), or `sudo apt install redis-server`,\n' +
        '  or `docker run -d -p 127.0.0.1:6379:6379 redis`; another address: LABWATCH_REDIS_URL=redis://host:port labwatch demo\n',
    );
    process.exit(1);
  }

  say(`labwatch demo: the real daemon, Redis at ${safeUrl} under the private prefix ${prefix}`);
  say('  smartctl and zpool are stand-ins replaying real captures (demo/SOURCES.md): a failing drive and a DEGRADED pool');
  const logFile = join(dir, 'labwatch.log');
  const logLines: string[] = [];
  const log = createLogger({ level: cfg.log.level, secrets: secretValues(cfg), destination: { write: (l: string) => void logLines.push(l) } });
  let daemon: Daemon;
  try {
    daemon = new Daemon(cfg, log);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (!(e instanceof RuleLoadError)) throw e;
    process.stderr.write(`labwatch demo: the rules are invalid\n${e.message}\n`);
    process.exit(1);
  }
  const channels = [...daemon.notifiers.keys()].filter((c) => c !== 'log');
  let failed: Error | undefined;
  let printed = 0;
  try {
    await daemon.start();
    for (const name of ['smart', 'zfs']) {
      const r = await daemon.watcher.run(name);
      say(`  ${name}: ${r.observations.length} observations, ${r.anomalies.length} anomal${r.anomalies.length === 1 ? 'y' : 'ies'}${r.error ? ` (error: ${r.error})` : ''}`);
    }
    const body = readFileSync(join(DEMO, 'alertmanager', 'webhook-icmp-ping-failed.json'), 'utf8');
    const token = cfg.secrets.httpToken;
    const res = await fetch(`${daemon.address}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body,
    });
    say(`  alertmanager: a real webhook payload posted to ${daemon.address}/webhook/alertmanager: HTTP ${res.status}`);
    await res.arrayBuffer();
    say('  waiting for triage and the reports…');
    await drained(daemon, prefix, 120_000);

    const incidents = await daemon.store.listRecent(50);
    for (const incident of incidents.reverse()) {
      const revision = await daemon.store.reportedRevision(incident.id, incident.revision);
      const report = await daemon.reports.getReport(incident.id, revision);
      if (!report) continue;
      const { subject, text } = render(report, { secrets: secretValues(cfg) });
      say(`\n${'─'.repeat(72)}\n${subject}\n\n${text.trimEnd()}`);
      printed++;
    }
    say(`${'─'.repeat(72)}\n`);
    say(`${printed} report${printed === 1 ? '' : 's'} made${channels.length ? `, sent as routed to ${channels.join(', ')} (from your config)` : '; with channels in --config FILE they are sent there too'}.`);
  } catch (e) {
    failed = e as Error;
  } finally {
    await daemon.stop().catch((e: Error) => (failed ??= e));
    const removed = await removeKeys(cfg.redis.url, prefix).catch((e: Error) => {
      failed ??= e;
      return 0;
    });
    if (failed) writeFileSync(logFile, logLines.join(''));
    else rmSync(dir, { recursive: true, force: true });
    say(`cleaned up: ${removed} Redis keys under ${prefix}${failed ? `; the log is kept in ${logFile}` : ' and the temporary folder'}`);
  }
  if (failed) {
    process.stderr.write(`labwatch demo failed: ${failed.message}\n`);
    process.exit(1);
  }
  if (printed === 0) {
    process.stderr.write('labwatch demo: no report was made\n');
    process.exit(1);
  }
  process.exit(0);
}
