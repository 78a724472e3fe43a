/**
 * Two connections to the test Redis, as two labwatch processes sharing it would have. The hooks
 * open them before the file's tests and, after, delete every key under `prefix` and disconnect.
 */
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './lab.ts';

export function twoConnections(prefix: string): { readonly a: Redis; readonly b: Redis } {
  const pair = {} as { a: Redis; b: Redis };
  before(() => {
    pair.a = new Redis(TEST_REDIS_URL);
    pair.b = new Redis(TEST_REDIS_URL);
  });
  after(async () => {
    const keys = await pair.a.keys(`${prefix}*`);
    if (keys.length) await pair.a.del(...keys);
    pair.a.disconnect();
    pair.b.disconnect();
  });
  return pair;
}
