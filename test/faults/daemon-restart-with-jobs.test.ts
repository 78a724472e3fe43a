/**
 * labwatch restarted with work in hand (an upgrade, a reboot, the OOM killer): reports held back by
 * group_wait, and deliveries backing off because the webhook receiver is failing. The process gets
 * SIGTERM (systemd's stop) or SIGKILL (a crash); a new one is started on the same Redis. Every
 * incident is then reported exactly once on each channel: none lost, none twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { Gate } from './gate.ts';
import { Channels, faultYaml, groupAlert, incidentIds, killAll, postAlert, queuesOf } from './rig.ts';

const GROUPS = 4; // per batch: reported before the restart on email and ntfy, and held back by group_wait

let redis: PrivateRedis;
before(async () => {
  redis = await new PrivateRedis().start();
});
after(async () => {
  await redis.stop();
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  describe(`a labwatch stopped with ${signal} while jobs wait`, () => {
    const prefix = `lwfault-restart-${signal.toLowerCase()}`;
    let channels: Channels;
    let hookGate: Gate;
    let view: ReturnType<typeof queuesOf>;
    const procs: LabwatchProcess[] = [];
    const yaml = () =>
      faultYaml({
        redisUrl: redis.url,
        prefix,
        channels,
        via: { webhook: hookGate.url },
        // The circuit stays closed (100 failures): the failing webhook's jobs back off as retries.
        notify: '  group_wait: 3s\n  group_interval: 1h\n  repeat_interval: "off"\n  circuit: { failures: 100, cooldown: 1s, max_cooldown: 2s }',
        extra: 'queue: { attempts: 10, backoff: 1s, shutdown_timeout: 2s }',
      });

    before(async () => {
      channels = await new Channels().start();
      hookGate = await new Gate({ port: Number(new URL(channels.hook.url).port) }).start();
      view = queuesOf(redis.url, prefix);
    });
    after(async () => {
      await killAll(procs);
      await view.close();
      await hookGate.stop();
      await channels.stop();
    });

    test(`after ${signal} and a restart: every incident reported once per channel, none lost, none twice`, { timeout: 60_000 }, async (t) => {
      await hookGate.set('failing'); // the webhook receiver's proxy answers 502
      const first = await startLabwatch(yaml());
      procs.push(first);
      for (let i = 0; i < GROUPS; i++) assert.equal((await postAlert(first.url, groupAlert(`early${i}`))).status, 200);
      await waitFor('the first batch by email and ntfy, and the webhook failing', () => channels.smtp.messages.length === GROUPS && channels.ntfy.published.length === GROUPS && hookGate.failedRequests >= GROUPS, 20_000, 50);
      for (let i = 0; i < GROUPS; i++) assert.equal((await postAlert(first.url, groupAlert(`late${i}`))).status, 200);

      // What the process leaves behind: reports held back by group_wait, deliveries backing off.
      // Held for group_wait: in the outbox (the durable promise), and as delayed triage jobs once queued.
      const held = await view.redis.zcount(`${prefix}:outbox`, Date.now(), '+inf');
      assert.equal(held, GROUPS, 'the second batch waits for group_wait');
      const heldJobs = (await view.daemon.queues.delayed('triage')).length;
      const retrying = await view.daemon.queues.delayed('notify');
      assert.ok(retrying.length >= 1, 'webhook deliveries wait for their retry');
      const stopped = Date.now();
      first.child.kill(signal);
      const exit = await first.exited;
      if (signal === 'SIGTERM') assert.equal(exit.code, 0, first.stderr());

      await hookGate.set('open');
      const second = await startLabwatch(yaml());
      procs.push(second);
      const ids = await waitFor(`${GROUPS * 2} incidents`, async () => {
        const found = await incidentIds(view.redis, prefix);
        return found.length === GROUPS * 2 ? found : null;
      });
      await waitFor('every incident on every channel', () => Object.values(channels.perIncident()).every((m) => m.size === GROUPS * 2), 30_000, 50);
      const took = Date.now() - stopped;
      await view.drained(20_000);
      assert.deepEqual(channels.notOnce(ids), [], 'each incident reported exactly once per channel');
      assert.ok(!second.lines().some((l) => l.msg === 'job failed for good'), 'no job gave up');
      t.diagnostic(
        `${signal} with ${held} reports held by group_wait (${heldJobs} as delayed jobs) and ${retrying.length} deliveries backing off: ` +
          `${GROUPS * 2} incidents, ${channels.smtp.messages.length} email, ${channels.ntfy.published.length} ntfy, ${channels.hook.accepted.length} webhook; ` +
          `all delivered ${took} ms after the ${signal}, 0 twice`,
      );
      second.child.kill('SIGTERM');
      assert.equal((await second.exited).code, 0);
    });
  });
}
