import { Redis, type RedisOptions } from 'ioredis';

const SENTINEL = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/?#]+)(?:\/(\d+))?\/?$/;
/** host, host:port, [v6] or [v6]:port */
const ENDPOINT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/** The form a Sentinel address takes, for errors. */
const SENTINEL_FORM = 'redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<master name>[/<db>]';

const decode = (part: string, what: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`${what} is not valid percent-encoding: write a "%" as %25`);
  }
};

/**
 * A Redis Sentinel address, `redis+sentinel://[[user]:password@]host:port[,host:port…]/<master>[/<db>]`:
 * the Sentinels to ask, the name of the master they watch, and the master's own credentials
 * (Sentinels themselves are asked without a password, their default). null for any other scheme;
 * throws, saying what is wrong, for a redis+sentinel:// URL it cannot read.
 */
export function sentinelOptions(url: string): RedisOptions | null {
  if (!url.startsWith('redis+sentinel://')) return null;
  const m = SENTINEL.exec(url);
  if (!m) throw new Error(`not a Sentinel address: expected ${SENTINEL_FORM}`);
  const [, user, password, hosts, name, db] = m;
  const sentinels = hosts!.split(',').map((h) => {
    const e = ENDPOINT.exec(h);
    if (!e) throw new Error(`Sentinel "${h}" is not host, host:port or [IPv6]:port (expected ${SENTINEL_FORM})`);
    return { host: e[1] ?? e[2]!, port: e[3] ? Number(e[3]) : 26379 };
  });
  return {
    sentinels,
    name: decode(name!, 'the master name'),
    ...(user ? { username: decode(user, 'the user name') } : {}),
    ...(password ? { password: decode(password, 'the password') } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

/** A Redis URL fit for logs and errors: its password replaced by [REDACTED]. */
export function safeRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/, '$1[REDACTED]@');
}

/** The password inside a redis://, rediss:// or redis+sentinel:// URL as written (percent-encoded), if any: a secret to scrub. */
export function redisPassword(url: string): string | undefined {
  const sentinel = SENTINEL.exec(url);
  if (sentinel) return sentinel[2] || undefined;
  try {
    return new URL(url).password || undefined;
  } catch {
    return undefined;
  }
}

/** A client for `url` (a plain or TLS URL, or a Sentinel address as above) with these options. */
export function redisClient(url: string, options: RedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  if (!sentinel) return new Redis(url, options);
  // A one-shot client (no retries: `check`, `demo`) gives up on the Sentinels too; a long-lived one
  // keeps asking them, as ioredis does by default, and its connect() is bounded by the caller.
  const once = options.retryStrategy?.(1) === null;
  return new Redis({ ...options, ...sentinel, ...(once ? { sentinelRetryStrategy: () => null } : {}) });
}

/**
 * The store's connection fails fast while Redis is away, so webhooks can answer 503 at once.
 * Auto-pipelining sends the commands of concurrent webhooks in one socket write.
 * Here rather than in daemon.ts so that `labwatch mcp`, `tools` and `audit` open it without loading
 * the whole daemon.
 */
export function storeConnection(url: string): Redis {
  return redisClient(url, {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    connectionName: 'labwatch',
  });
}

/**
 * The delivery ledger's connection waits for Redis instead of failing: a message already sent
 * must have its record written, whenever Redis comes back (notify/ledger.ts).
 */
export function ledgerConnection(url: string): Redis {
  return redisClient(url, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: 'labwatch-ledger' });
}
