/**
 * Redis restarted while alerts pour in: a real `labwatch run` takes 100 Alertmanager posts a second
 * (new groups and repeats of earlier ones); Redis is stopped with SIGTERM for 4 s and restarted
 * from its append-only file while the posting goes on. A sender must only ever see 200 or 503 with
 * Retry-After; every alert answered 200 ends in an incident, and each incident is reported exactly
 * once on each channel (email, ntfy, webhook) once Redis is back. The 503s are re-sent afterwards,
 * as Alertmanager does, and are then reported once too.
 *
 * appendfsync: everysec, Redis's default (the README sets appendonly yes and leaves it). A SIGTERM (or
 * SHUTDOWN) makes Redis flush and fsync the AOF before it exits, so a clean stop loses nothing under
 * everysec; `always` only matters for a crash or power loss (up to one second of writes), which is
 * not the fault here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { Channels, faultYaml, groupAlert, incidentIds, killAll, postAlert, queuesOf } from './rig.ts';

const RATE = 100; // posts per second
const SECONDS = 12;
const OUTAGE = { from: 2_500, ms: 4_000 };
const NEW_EVERY = 4; // one post in four opens a new group; the rest repeat an earlier one
const PREFIX = 'lwfault-redis-restart';

let redis: PrivateRedis;
let channels: Channels;
let view: ReturnType<typeof queuesOf> | undefined;
const procs: LabwatchProcess[] = [];

before(async () => {
  redis = await new PrivateRedis().start();
  channels = await new Channels().start();
});
after(async () => {
  await killAll(procs);
  await view?.close();
  await channels.stop();
  await redis.stop();
});

test(`Redis stopped for ${OUTAGE.ms / 1000} s at ${RATE} alerts/s and restarted from its AOF: only 200 or 503, every 200 in an incident, one message per incident and channel`, { timeout: 90_000 }, async (t) => {
  const check = new Redis(redis.url);
  const fsync = (await check.config('GET', 'appendfsync')) as string[];
  const aof = (await check.config('GET', 'appendonly')) as string[];
  check.disconnect();
  assert.deepEqual([aof[1], fsync[1]], ['yes', 'everysec'], 'as the README sets Redis up: appendonly yes (appendfsync left at its default, everysec)');

  const lab = await startLabwatch(
    faultYaml({ redisUrl: redis.url, prefix: PREFIX, channels, notify: '  group_wait: 0s\n  group_interval: 1h\n  repeat_interval: "off"', extra: 'queue: { attempts: 10, backoff: 200ms }' }),
  );
  procs.push(lab);

  // Open loop: each post leaves at its time whatever the earlier ones are waiting for, as senders do.
  const answers: { group: string; status: number; retryAfter: string | null; sent: number; at: number }[] = [];
  const inFlight: Promise<void>[] = [];
  const groups: string[] = [];
  const started = Date.now();
  let outage: Promise<void> | undefined;
  let stoppedAt = 0;
  let restartedAt = 0;
  for (let i = 0; i < RATE * SECONDS; i++) {
    const at = started + (i * 1000) / RATE;
    if (Date.now() < at) await sleep(at - Date.now());
    if (!outage && Date.now() - started >= OUTAGE.from)
      outage = (async () => {
        stoppedAt = Date.now();
        await redis.stop();
        await sleep(OUTAGE.ms);
        await redis.start();
        restartedAt = Date.now();
      })();
    if (i % NEW_EVERY === 0 || groups.length === 0) groups.push(`nfs${String(groups.length).padStart(4, '0')}`);
    const group = i % NEW_EVERY === 0 ? groups.at(-1)! : groups[(i * 7919) % groups.length]!;
    inFlight.push(
      (async () => {
        const sent = Date.now();
        const a = await postAlert(lab.url, groupAlert(group));
        answers.push({ group, ...a, sent, at: Date.now() });
      })(),
    );
  }
  await Promise.all(inFlight);
  await outage;
  const postedFor = Date.now() - started;

  const ok = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 503);
  const other = answers.filter((a) => a.status !== 200 && a.status !== 503);
  const firstOkAfter = Math.min(...ok.filter((a) => a.sent >= restartedAt).map((a) => a.at)) - restartedAt;
  const last503After = Math.max(...refused.map((a) => a.sent)) - restartedAt;
  const first503 = Math.min(...refused.map((a) => a.at)) - stoppedAt;
  t.diagnostic(
    `${answers.length} requests in ${postedFor} ms: ${ok.length} answered 200, ${refused.length} 503, ${other.length} other; ` +
      `Redis stopped at ${stoppedAt - started} ms, back at ${restartedAt - started} ms; first 503 answered ${first503} ms after the stop; ` +
      `first 200 ${firstOkAfter} ms after Redis was back, last 503 sent ${last503After} ms after`,
  );
  assert.deepEqual(other.map((a) => a.status), [], 'every request answered 200 or 503');
  assert.ok(refused.every((a) => a.retryAfter === '10'), 'every 503 says when to retry');
  assert.ok(refused.length > 0, 'the outage was felt');
  // No 503 while Redis was up: none answered before the stop. (Posts sent before it may be answered
  // 503 after it: on a busy machine labwatch runs seconds behind an open-loop sender.)
  const spurious = refused.filter((a) => a.at < stoppedAt).map((a) => a.at - started);
  const why = [...new Set(lab.lines().filter((l) => l.msg.startsWith('webhook not stored')).map((l) => String(l.err)))].slice(0, 3);
  assert.deepEqual(spurious, [], `503s answered (ms into the run) before Redis was stopped at ${stoppedAt - started} ms: ${why.join(' | ')}`);
  const v = (view = queuesOf(redis.url, PREFIX));

  // Every group answered 200 at least once must be an incident with one message per channel.
  const acceptedGroups = new Set(ok.map((a) => a.group));
  const drain = async (what: string, want: number) => {
    await waitFor(`${what}: ${want} incidents reported on email, ntfy and the webhook`, async () => {
      const ids = await incidentIds(v.redis, PREFIX);
      const per = channels.perIncident();
      return ids.length >= want && Object.values(per).every((m) => m.size >= want);
    }, 60_000, 100);
    await v.drained(30_000);
  };
  await drain('after the restart', acceptedGroups.size);
  const drainedIn = Date.now() - restartedAt;
  const afterOutage = await incidentIds(v.redis, PREFIX);
  assert.equal(afterOutage.length, acceptedGroups.size, 'one incident per group answered 200, none lost, none extra');
  assert.deepEqual(channels.notOnce(afterOutage), [], 'each incident reported exactly once per channel');

  // Alertmanager re-sends what got 503; those groups are stored now, and reported once too.
  const retried = [...new Set(refused.map((a) => a.group))];
  for (const group of retried) assert.equal((await postAlert(lab.url, groupAlert(group))).status, 200);
  const allGroups = new Set(answers.map((a) => a.group));
  await drain('after the re-sends', allGroups.size);
  const all = await incidentIds(v.redis, PREFIX);
  assert.equal(all.length, allGroups.size);
  assert.deepEqual(channels.notOnce(all), [], 'each incident reported exactly once per channel after the re-sends');
  assert.ok(!lab.lines().some((l) => l.msg === 'job failed for good'), 'no job gave up');

  const messages = channels.smtp.messages.length + channels.ntfy.published.length + channels.hook.accepted.length;
  t.diagnostic(
    `${answers.length} requests in ${postedFor} ms, ${ok.length} answered 200, ${refused.length} answered 503; ` +
      `${acceptedGroups.size} incidents from the 200s (${allGroups.size} after re-sending ${retried.length} groups), ` +
      `${messages} messages (${channels.smtp.messages.length} email, ${channels.ntfy.published.length} ntfy, ${channels.hook.accepted.length} webhook), 0 duplicates; ` +
      `drained ${drainedIn} ms after Redis was back`,
  );
  lab.child.kill('SIGTERM');
  assert.equal((await lab.exited).code, 0);
});
