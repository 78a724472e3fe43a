/**
 * `labwatch demo` as a newcomer runs it: `node bin/labwatch.js demo`, a child process with nothing
 * but PATH, HOME and a Redis URL. It prints the reports of a real failing drive, a real degraded
 * pool and a real Alertmanager alert, sends them to the channels of --config, exits 0 and leaves no
 * key under its private prefix.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './helpers/lab.ts';
import { TestNtfy } from './helpers/ntfy.ts';

const CLI = fileURLToPath(new URL('../bin/labwatch.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'labwatch-demo-test-'));
after(() => rmSync(home, { recursive: true, force: true }));

function demo(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, LABWATCH_REDIS_URL: TEST_REDIS_URL, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

const prefixOf = (stdout: string) => /under the private prefix (labwatch-demo-[0-9a-f]{8})/.exec(stdout)?.[1];

describe('labwatch demo', () => {
  test('prints the reports of the failing drive, the degraded pool and the alert, exits 0 and leaves no key behind', { timeout: 120_000 }, async () => {
    const r = await demo([]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // The drive by its serial and its count of reallocated sectors (the wording is the rules').
    assert.match(r.stdout, /\[CRITICAL\][^\n]*disk:WD-WXE708D44602/);
    assert.match(r.stdout, /\b535 reallocated/i);
    // The pool, its state and the faulted disk.
    assert.match(r.stdout, /\[CRITICAL\][^\n]*local-zfs[^\n]*DEGRADED/);
    assert.match(r.stdout, /wwn-0x5000cca245c1984b[^\n]*FAULTED/);
    // The Alertmanager payload went through the webhook into its own report.
    assert.match(r.stdout, /ICMP ping failed on 172\.29\.254\.30/);
    assert.match(r.stdout, /\n\d+ reports made/);
    const prefix = prefixOf(r.stdout);
    assert.ok(prefix, r.stdout);
    assert.deepEqual(await keysUnder(prefix), []);
  });

  test('with --config, the reports also reach its channels (here a loopback ntfy)', { timeout: 120_000 }, async () => {
    const ntfy = await new TestNtfy().start();
    try {
      const config = join(home, 'labwatch.yaml');
      writeFileSync(config, `notify:\n  ntfy:\n    url: ${ntfy.url}\n    topic: homelab\n`);
      const r = await demo(['--config', config]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /sent as routed to ntfy/);
      // Every report is critical: the default routes send each at once, and the demo waited for them.
      const made = Number(/\n(\d+) reports made/.exec(r.stdout)?.[1]);
      assert.ok(made >= 3, r.stdout);
      assert.equal(ntfy.published.length, made, ntfy.published.map((p) => p.body).join('\n---\n'));
      const bodies = ntfy.published.map((p) => p.body).join('\n');
      // ntfy gets markdown, where "-" arrives escaped.
      assert.match(bodies, /WD\\?-WXE708D44602/);
      assert.match(bodies, /local\\?-zfs/);
      assert.deepEqual(await keysUnder(prefixOf(r.stdout)!), []);
    } finally {
      await ntfy.stop();
    }
  });

  test('without Redis it says how to get one and exits 1', { timeout: 60_000 }, async () => {
    const r = await demo([], { LABWATCH_REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs Redis, and none answers at redis:\/\/127\.0\.0\.1:1/);
    assert.match(r.stderr, /scripts\/setup-and-run\.sh/);
  });
});
