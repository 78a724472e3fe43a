import { Redis } from 'ioredis';

/**
 * The store's connection fails fast while Redis is away, so webhooks can answer 503 at once.
 * Auto-pipelining sends the commands of concurrent webhooks in one socket write.
 * Here rather than in daemon.ts so that `labwatch mcp`, `tools` and `audit` open it without loading
 * the whole daemon.
 */
export function storeConnection(url: string): Redis {
  return new Redis(url, {
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
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: 'labwatch-ledger' });
}
