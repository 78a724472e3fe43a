/**
 * Whether labwatch reaches Redis, for the whole process. Every connection labwatch opens is
 * watched here; an outage is logged once when the first connection fails and once when the last
 * failing one is ready again (never once per connection, worker or reconnect attempt), and shown
 * as the labwatch_redis_up gauge through `onChange`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from './log.ts';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** True for errors that mean "Redis cannot be reached" rather than "this command or job failed". */
export function isConnectionError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|Stream isn't writeable|max retries per request|Command timed out/i.test(err.message);
}

export class RedisHealth {
  /** names of the connections failing now */
  readonly #failing = new Set<string>();
  /** the outage was logged and not yet its end */
  #down = false;
  #everReady = false;

  constructor(
    private readonly log: Logger,
    /** the Redis URL with any password removed, for the two log lines */
    private readonly where: string,
    private readonly onChange: (up: boolean) => void = () => {},
  ) {}

  /** True once a connection was ready and none is failing now. */
  get up(): boolean {
    return this.#everReady && !this.#down;
  }

  /** Follows one connection: its errors (ioredis emits only connection-level ones) and its returns. */
  watch(name: string, connection: Redis): void {
    connection.on('error', (err: Error) => this.failed(name, err));
    connection.on('ready', () => this.ready(name));
    if (connection.status === 'ready') this.ready(name);
  }

  failed(name: string, err: Error): void {
    this.#failing.add(name);
    if (this.#down) return;
    this.#down = true;
    this.log.error({ redis: this.where, err: err.message }, 'Redis unreachable; webhooks answer 503 and jobs wait until it returns');
    this.onChange(false);
  }

  ready(name: string): void {
    this.#failing.delete(name);
    this.#everReady = true;
    if (this.#failing.size > 0) return;
    if (this.#down) {
      this.#down = false;
      this.log.info({ redis: this.where }, 'Redis is back');
    }
    this.onChange(true);
  }
}
