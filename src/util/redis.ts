import { Redis, type RedisOptions } from 'ioredis';

const SENTINEL = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/?#]+)(?:\/(\d+))?\/?$/;

/**
 * A Redis Sentinel address, `redis+sentinel://[[user]:password@]host:port[,host:port…]/<master>[/<db>]`:
 * the Sentinels to ask, the name of the master they watch, and the master's own credentials
 * (Sentinels themselves are asked without a password, their default). null for any other URL.
 */
export function sentinelOptions(url: string): RedisOptions | null {
  const m = SENTINEL.exec(url);
  if (!m) return null;
  const [, user, password, hosts, name, db] = m;
  const sentinels = hosts!.split(',').map((h) => {
    const at = h.lastIndexOf(':');
    const host = at > 0 ? h.slice(0, at).replace(/^\[|\]$/g, '') : h;
    return { host, port: at > 0 ? Number(h.slice(at + 1)) : 26379 };
  });
  return {
    sentinels,
    name: decodeURIComponent(name!),
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
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
  return sentinel ? new Redis({ ...options, ...sentinel }) : new Redis(url, options);
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
