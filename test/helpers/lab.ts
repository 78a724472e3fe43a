/**
 * A whole labwatch on loopback for end-to-end tests: the real daemon, built from a real YAML
 * config file, talking to real Redis (under a private key prefix), a real SMTP server and a
 * recording ntfy receiver. Secrets come from files, as a user would configure them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.ts';
import { secretValues, type Config } from '../../src/config/schema.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { TestNtfy } from './ntfy.ts';
import { TestSmtp } from './smtp.ts';
import { drained } from './wait.ts';

export const TEST_REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The secrets every lab uses, so tests can assert none of them leaks. */
export const SECRETS = {
  anthropicKey: 'lw-fake-anthropic-key-0123456789',
  httpToken: 'lw-http-token-7f3a9c2e1b',
  smtpPassword: 'smtp-pass-Q8v!x2#Lm',
  ntfyToken: 'tk_testtokenabcdefghijklmnopqrs',
};

export interface LabOptions {
  redisUrl?: string;
  /** Require the bearer token on webhooks (default true). */
  token?: boolean;
  /** Extra YAML appended to the config. */
  extraYaml?: string;
  /** The watch: block (default: every collector off, so tests only see what they drive). */
  watchYaml?: string;
  queue?: { attempts: number; backoff: string };
  /** the anthropic: block (e.g. base_url of a scripted API); the key comes from a file */
  anthropic?: Record<string, unknown>;
  /** the API key written to anthropic.api_key_file (default: a fake one, for scripted APIs); false: no key (a local model behind base_url alone) */
  anthropicKey?: string | false;
  /** the SMTP password labwatch is given (default: the right one) */
  smtpPassword?: string;
  /** extra keys inside the notify: block, e.g. quiet_hours; group_wait and group_interval are 0s (every change reported at once) unless given */
  notifyExtra?: Record<string, unknown>;
  circuit?: { failures: number; cooldown: string; max_cooldown: string };
  /** the loopback ntfy receiver's options, e.g. an 8 KB header limit like ntfy behind nginx */
  ntfy?: { maxHeaderBytes?: number };
  /** the channels configured (default both); with none, reports go to the log notifier */
  channels?: ('email' | 'ntfy')[];
  /** audit.file (default: audit.jsonl in the lab's temporary folder) */
  auditFile?: string;
  /** http.listen (default 127.0.0.1:0) */
  listen?: string;
}

export interface Lab {
  daemon: Daemon;
  config: Config;
  url: string;
  smtp: TestSmtp;
  ntfy: TestNtfy;
  logs: string[];
  prefix: string;
  redis: Redis;
  post(body: string, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Waits until nothing is left to send soon (see `drained` in wait.ts). */
  drained(timeoutMs?: number): Promise<void>;
  /** Keys this lab wrote to Redis (without the prefix). */
  keys(pattern?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  const prefix = `lwtest-${randomBytes(4).toString('hex')}`;
  const smtp = await new TestSmtp({ user: 'lab@example.org', password: SECRETS.smtpPassword }).start();
  const ntfy = await new TestNtfy(opts.ntfy).start();
  const channels = new Set(opts.channels ?? ['email', 'ntfy']);
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-test-'));
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content + '\n', { mode: 0o600 });
    return p;
  };
  const yaml = `
redis:
  url: "${redisUrl}"
  prefix: ${prefix}
http:
  listen: "${opts.listen ?? '127.0.0.1:0'}"
${opts.token === false ? '' : `  token_file: ${file('http-token', SECRETS.httpToken)}`}
notify:
${!channels.has('email') ? '' : `  email:
    host: 127.0.0.1
    port: ${smtp.port}
    secure: false
    user: lab@example.org
    password_file: ${file('smtp-password', opts.smtpPassword ?? SECRETS.smtpPassword)}
    from: "labwatch <lab@example.org>"
    to: [owner@example.org]`}
${!channels.has('ntfy') ? '' : `  ntfy:
    url: ${ntfy.url}
    topic: homelab
    token_file: ${file('ntfy-token', SECRETS.ntfyToken)}`}
  circuit: ${JSON.stringify(opts.circuit ?? { failures: 5, cooldown: '1m', max_cooldown: '30m' })}
${Object.entries({ group_wait: '0s', group_interval: '0s', ...opts.notifyExtra }).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}
queue:
  attempts: ${opts.queue?.attempts ?? 6}
  backoff: ${opts.queue?.backoff ?? '100ms'}
  shutdown_timeout: 5s
${opts.anthropic ? `anthropic:\n${opts.anthropicKey === false ? '' : `  api_key_file: ${file('anthropic-key', opts.anthropicKey ?? SECRETS.anthropicKey)}\n`}${Object.entries(opts.anthropic).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}` : ''}
log:
  level: debug
audit:
  file: ${opts.auditFile ?? join(dir, 'audit.jsonl')}
${opts.watchYaml ?? 'watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }'}
${opts.extraYaml ?? ''}`;
  const config = loadConfig(file('labwatch.yaml', yaml), {});
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', secrets: secretValues(config), destination: { write: (l) => void logs.push(l) } });
  const daemon = new Daemon(config, log);
  await daemon.start();
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect().catch(() => {});
  const url = daemon.address;

  const lab: Lab = {
    daemon,
    config,
    url,
    smtp,
    ntfy,
    logs,
    prefix,
    redis,
    async post(body, headers = {}) {
      const res = await fetch(`${url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${SECRETS.httpToken}`, ...headers },
        body,
      });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { text };
      }
      return { status: res.status, json };
    },
    async drained(timeoutMs = 15_000) {
      await drained(lab, timeoutMs);
    },
    async keys(pattern = '*') {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:${pattern}`, 'COUNT', 1000);
        cursor = next;
        found.push(...batch.map((k) => k.slice(prefix.length + 1)));
      } while (cursor !== '0');
      return found;
    },
    async stop() {
      await daemon.stop().catch(() => {});
      const all = await lab.keys().catch(() => []);
      if (all.length) await redis.del(...all.map((k) => `${prefix}:${k}`)).catch(() => {});
      redis.disconnect();
      await smtp.stop();
      await ntfy.stop();
    },
  };
  return lab;
}
