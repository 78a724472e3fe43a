/**
 * A private redis-server process for tests that stop and restart Redis. Append-only persistence
 * in a temporary directory, as the README's set-up configures it, so state survives a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './wait.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'labwatch-redis-'));
  port = 0;
  #proc: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts redis-server; again after stop(), on the same port (so clients reconnect). redis-server
   * cannot listen on port 0 and report it, so a first start takes a free port and, should another
   * test file take it first, tries another.
   */
  async start(): Promise<this> {
    const fixed = this.port !== 0;
    for (let attempt = 1; ; attempt++) {
      if (!fixed) this.port = await freePort();
      if (await this.#spawn()) return this;
      const why = `redis-server on port ${this.port} exited before answering: ${readLog(join(this.dir, 'redis.log'))}`;
      if (fixed || attempt === 3) throw new Error(why);
    }
  }

  /** true once it answers PING; false if it exited first (e.g. the port was taken). */
  async #spawn(): Promise<boolean> {
    const proc = spawn(
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir, '--logfile', join(this.dir, 'redis.log')],
      { stdio: 'ignore' },
    );
    this.#proc = proc;
    let exited = false;
    proc.on('error', () => (exited = true));
    proc.once('exit', () => (exited = true));
    const up = await waitFor(`redis-server on port ${this.port}`, async () => {
      if (exited) return 'exited';
      const c = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => {});
      try {
        await c.connect();
        // Ours, not another test's redis-server that got the port first.
        return new RegExp(`^process_id:${proc.pid}\\r?$`, 'm').test(await c.info('server')) && 'up';
      } finally {
        c.disconnect();
      }
    });
    return up === 'up';
  }

  /** Stops the server as a crash or a service stop would: connections drop at once. */
  async stop(): Promise<void> {
    const p = this.#proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
