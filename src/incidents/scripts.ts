/**
 * The Lua scripts that make incident updates atomic in Redis. Loaded once per connection with
 * ioredis' defineCommand (EVALSHA afterwards). Key layout is described in store.ts.
 */
import type { Redis, Result } from 'ioredis';

/**
 * Compare-and-set of a group's incident, with everything that must change with it.
 * KEYS: group, incident, firing set, resolved zset, outbox, recent zset, content hash, pace hash,
 *       anomalies hash
 * ARGV: [1] expected current header ('' = none), [2] new header, [3] id, [4] status,
 *       [5] '1' if this opens a new incident, [6] '1' if this revision is news to announce,
 *       [7] retention seconds, [8] now (ms), [9] '1' if it is urgent (escalated to critical, or
 *       the whole incident resolved), [10] group_wait (ms), [11] group_interval (ms),
 *       [12] K, then K fingerprint, anomaly JSON pairs (the anomalies this change wrote),
 *       then fingerprint, content digest pairs
 * Returns {1, due, replaced}: committed, and the incident's report is due at `due` (ms; 0 = nothing
 * new to report), sooner than the due time `replaced` set before (if any; its job is now moot);
 * {0, 0} when the group changed meanwhile (the caller re-reads and retries).
 *
 * Pacing (Alertmanager's grouping in time): news is not queued one revision at a time. The outbox
 * holds one member per incident whose score is when its next report is due: group_wait after the
 * news, but no sooner than group_interval after the last report began, unless the news is urgent.
 * A due time already set earlier is kept, so a storm of news about one incident makes one report.
 */
const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return {0, 0} end
local ttl = tonumber(ARGV[7])
local now = tonumber(ARGV[8])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[5] == '1' then redis.call('DEL', KEYS[7]) end
-- Always (re)written, so a group whose hash went missing heals on its next change.
redis.call('HSET', KEYS[7], '@id', ARGV[3])
local k = tonumber(ARGV[12])
for i = 13, 12 + 2 * k, 2 do redis.call('HSET', KEYS[9], ARGV[i], ARGV[i + 1]) end
for i = 13 + 2 * k, #ARGV, 2 do redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 1]) end
if ARGV[4] == 'resolved' then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[7], ttl)
  redis.call('EXPIRE', KEYS[9], ttl)
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
  redis.call('SREM', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[4], now, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - ttl * 1000)
else
  redis.call('PERSIST', KEYS[7])
  redis.call('PERSIST', KEYS[9])
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
end
redis.call('ZADD', KEYS[6], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - ttl * 1000)
-- A new incident has reported nothing yet (an incident without this field predates pacing).
if ARGV[5] == '1' then redis.call('HSET', KEYS[8], 'reported', '0') end
redis.call('EXPIRE', KEYS[8], ttl)
if ARGV[6] ~= '1' then return {1, 0} end
local due = now + tonumber(ARGV[10])
local last = tonumber(redis.call('HGET', KEYS[8], 'flushedAt') or '0')
if ARGV[9] ~= '1' and last > 0 and last + tonumber(ARGV[11]) > due then due = last + tonumber(ARGV[11]) end
-- Later than every report already begun, so its job id (incident + due) was never used before.
if due <= last then due = last + 1 end
local set = redis.call('ZSCORE', KEYS[5], ARGV[3])
if set and tonumber(set) <= due then return {1, set} end
redis.call('ZADD', KEYS[5], due, ARGV[3])
return {1, tostring(due), set or '0'}
`;

/**
 * Claims an incident's due report for one triage job, so one report is made at a time.
 * KEYS: outbox, pace hash. ARGV: [1] id, [2] now (ms), [3] job id, [4] lease (ms), [5] retention
 * seconds, [6] '1' to claim even without an outbox member (a job queued before pacing existed),
 * [7] how early a due report may be claimed (ms: another process's clock may run ahead).
 * Returns {1, 0} claimed; {2, 0} this job had claimed it and is resuming; {0, 0} nothing is due
 * (another job reported it); {-1, due} due later; {-2, 0} another job is reporting it right now.
 */
const CLAIM = `
local now = tonumber(ARGV[2])
local owner = redis.call('HGET', KEYS[2], 'owner')
if owner == ARGV[3] then return {2, 0} end
if owner then
  local at = tonumber(redis.call('HGET', KEYS[2], 'ownedAt') or '0')
  if now - at < tonumber(ARGV[4]) then return {-2, 0} end
else
  local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not due then
    if ARGV[6] ~= '1' then return {0, 0} end
  elseif tonumber(due) > now + tonumber(ARGV[7]) then return {-1, due} end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'owner', ARGV[3], 'ownedAt', ARGV[2], 'flushedAt', ARGV[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return {1, 0}
`;

/**
 * Ends a claim: records the revision reported and releases the incident.
 * KEYS: pace hash. ARGV: [1] job id, [2] revision reported, [3] retention seconds.
 */
const FINISH = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('HDEL', KEYS[1], 'owner', 'ownedAt') end
local cur = tonumber(redis.call('HGET', KEYS[1], 'reported') or '-1')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], 'reported', ARGV[2]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
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
    labwatchCommit(...args: (string | number)[]): Result<[0 | 1, string | number, string?], Context>;
    labwatchClaim(...args: (string | number)[]): Result<[number, string | number], Context>;
    labwatchFinish(...args: (string | number)[]): Result<number, Context>;
    labwatchRepeat(...args: (string | number)[]): Result<[0 | 1, string], Context>;
  }
}

export function defineIncidentScripts(redis: Redis): void {
  redis.defineCommand('labwatchCommit', { numberOfKeys: 9, lua: COMMIT });
  redis.defineCommand('labwatchClaim', { numberOfKeys: 2, lua: CLAIM });
  redis.defineCommand('labwatchFinish', { numberOfKeys: 1, lua: FINISH });
  redis.defineCommand('labwatchRepeat', { numberOfKeys: 2, lua: REPEAT });
}
