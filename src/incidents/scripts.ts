/**
 * The Lua scripts that make incident updates atomic in Redis. Loaded once per connection with
 * ioredis' defineCommand (EVALSHA afterwards). Key layout is described in store.ts.
 */
import type { Redis, Result } from 'ioredis';

/**
 * Compare-and-set of a group's incident, with everything that must change with it.
 * KEYS: group, incident, firing set, resolved zset, outbox, recent zset, revision, content hash
 * ARGV: [1] expected current JSON ('' = none), [2] new JSON, [3] id, [4] status,
 *       [5] '1' if this opens a new incident, [6] outbox member ('' = nothing to announce),
 *       [7] retention seconds, [8] now (ms), [9…] fingerprint, content digest pairs
 * Returns 1 when committed, 0 when the group changed meanwhile (the caller re-reads and retries).
 */
const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[7])
local now = tonumber(ARGV[8])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[5] == '1' then redis.call('DEL', KEYS[8]) end
-- Always (re)written, so a group whose hash went missing heals on its next change.
redis.call('HSET', KEYS[8], '@id', ARGV[3])
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[8], ARGV[i], ARGV[i + 1]) end
if ARGV[4] == 'resolved' then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[8], ttl)
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
  redis.call('SREM', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[4], now, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - ttl * 1000)
else
  redis.call('PERSIST', KEYS[8])
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
end
redis.call('ZADD', KEYS[6], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - ttl * 1000)
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[7], ARGV[2], 'EX', ttl)
  redis.call('ZADD', KEYS[5], now, ARGV[6])
end
return 1
`;

/**
 * A repeat, in one round trip: if every delivered anomaly is known with the same content digest,
 * record that it was seen again and return {1, incident id}; otherwise change nothing and return
 * {0, the group's current JSON or ''}, which the caller's compare-and-set starts from.
 * KEYS: content hash, group. ARGV: [1] now (ISO), [2…] fingerprint, digest pairs.
 */
const REPEAT = `
local id = redis.call('HGET', KEYS[1], '@id')
local same = id ~= false
if same then
  for i = 2, #ARGV, 2 do
    if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then same = false break end
  end
end
if not same then return {0, redis.call('GET', KEYS[2]) or ''} end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i] .. '#at', ARGV[1])
  redis.call('HINCRBY', KEYS[1], ARGV[i] .. '#n', 1)
end
return {1, id}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    labwatchCommit(...args: (string | number)[]): Result<number, Context>;
    labwatchRepeat(...args: (string | number)[]): Result<[0 | 1, string], Context>;
  }
}

export function defineIncidentScripts(redis: Redis): void {
  redis.defineCommand('labwatchCommit', { numberOfKeys: 8, lua: COMMIT });
  redis.defineCommand('labwatchRepeat', { numberOfKeys: 2, lua: REPEAT });
}
