/**
 * The wall clock steps (NTP after a bad RTC, a VM resumed from a snapshot): forward an hour, then
 * back ten minutes. What must hold: one digest per period, reminders at most once per interval,
 * and a rule's `for:` neither skipped nor stuck.
 *
 * Two ways, said plainly:
 * - the digest on a real `labwatch run` whose clock is stepped by libfaketime (Debian's `faketime`
 *   package; LD_PRELOAD with FAKETIME_TIMESTAMP_FILE and FAKETIME_NO_CACHE=1 re-read on every call,
 *   FAKETIME_DONT_FAKE_MONOTONIC=1 so that, as with a real NTP step, only the wall clock moves and
 *   Node's timers keep time). Skipped where the library is not installed.
 * - `for:` and reminders in-process, through their injectable clocks (the observation's time, the
 *   sweep's `now`): their own timers tick once a minute, too slow to watch a real process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { RuleEngine } from '../../src/rules/engine.ts';
import { Watcher } from '../../src/watch/index.ts';
import { loadRules } from '../../src/rules/load.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { startLab, TEST_REDIS_URL, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { Channels, faultYaml, killAll } from './rig.ts';

const MIN = 60_000;
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));

describe('the digest of a real process whose wall clock steps', () => {
  if (!LIBFAKETIME) {
    test('skipped: libfaketime is not installed (apt-get install faketime)', { skip: 'libfaketime is not installed (apt-get install faketime)' }, () => {});
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-clock-'));
  const clockFile = join(dir, 'faketime');
  /** Steps the process's wall clock to real time + `s` seconds (libfaketime reads the file on every call). */
  const offset = (s: number) => writeFileSync(clockFile, `${s >= 0 ? '+' : ''}${Math.round(s)}\n`);
  let redis: PrivateRedis;
  let channels: Channels;
  const procs: LabwatchProcess[] = [];
  before(async () => {
    offset(0);
    redis = await new PrivateRedis().start();
    channels = await new Channels().start();
  });
  after(async () => {
    await killAll(procs);
    await channels.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
  const digestsOf = () => channels.hook.accepted.map((r) => r.json as { kind: string; from: string; to: string }).filter((d) => d.kind === 'digest');

  test('a frequent digest and a step forward of 1 h: one digest covers the hour, not one per skipped period', { timeout: 40_000 }, async (t) => {
    // A digest every minute (checked every 2 s: the period is the minute), even when empty, to the webhook.
    offset(0);
    const lab = await startLabwatch(
      faultYaml({ redisUrl: redis.url, prefix: 'lwfault-clock-1', channels, notify: '  digest: { schedule: "*/2 * * * * *", send_empty: true, channels: [webhook] }' }),
      env(),
    );
    procs.push(lab);
    const first = await waitFor('the first digest', () => digestsOf()[0], 15_000, 50);
    offset(3600); // NTP steps the clock forward an hour
    const second = await waitFor('the digest after the step forward', () => digestsOf()[1], 15_000, 50);
    assert.ok(Date.parse(second.to) - Date.parse(first.to) >= 59 * MIN, `the next period ends an hour later: ${first.to} → ${second.to}`);
    assert.equal(second.from, first.to, 'one digest covers the hour the step skipped');
    // The next one comes at the next minute of the new clock, and follows on.
    offset((Date.parse(second.to) + MIN + 1_000 - Date.now()) / 1000);
    const third = await waitFor('the digest for the next minute', () => digestsOf()[2], 15_000, 50);
    assert.equal(third.from, second.to);
    assert.equal(digestsOf().length, 3, digestsOf().map((d) => `${d.from} → ${d.to}`).join(', '));
    t.diagnostic(`digests: ${digestsOf().map((d) => `${d.from} → ${d.to}`).join(', ')}`);
    lab.child.kill('SIGTERM');
    assert.equal((await lab.exited).code, 0);
  });

  test(
    'a step forward over the digest\'s time: that digest still goes out, once',
    {
      timeout: 60_000,
    },
    async (t) => {
      const before = digestsOf().length;
      // The process's clock starts 18 s before a minute, which is the digest's time; then steps 5 min forward.
      const real = Date.now();
      const slot = Math.ceil((real + 20_000) / MIN) * MIN;
      const lead = Math.round((slot - 18_000 - real) / 1000);
      offset(lead);
      const lab = await startLabwatch(
        faultYaml({ redisUrl: redis.url, prefix: 'lwfault-clock-2', channels, notify: `  digest: { schedule: "${new Date(slot).getUTCMinutes()} * * * *", timezone: UTC, send_empty: true, channels: [webhook] }` }),
        env(),
      );
      procs.push(lab);
      try {
        offset(lead + 300); // the clock steps 5 minutes: the digest's minute is passed before its timer fires
        // Its timer (monotonic) fires when the unstepped clock would have reached the minute: wait until just past that.
        const firesIn = real + 18_000 - Date.now();
        const digest = await waitFor('the digest for the minute stepped over', () => digestsOf()[before], Math.max(firesIn, 0) + 3_000, 50);
        assert.equal(digest.to, new Date(slot).toISOString());
      } finally {
        lab.child.kill('SIGTERM');
        await lab.exited;
        t.diagnostic(`digests after the step: ${digestsOf().length - before}`);
      }
    },
  );
});

describe('the digest when the clock steps back (in-process: the period end is given)', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ channels: ['email'], notifyExtra: { digest: { schedule: '0 0 1 1 *', send_empty: true } } });
  });
  after(async () => {
    await lab.stop();
  });

  test('back 10 min after a digest: the minutes it covered get none again; the next period follows on', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    await lab.daemon.queueDigest(new Date(now));
    await waitFor('the digest', () => lab.smtp.messages[0]);
    await lab.drained();
    for (const back of [10, 5, 1]) await lab.daemon.queueDigest(new Date(now - back * MIN)); // the schedule runs again as the clock replays
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 1, 'no digest for a period already covered');
    assert.equal(lab.logs.filter((l) => l.includes('digest for this period already done')).length, 3);
    await lab.daemon.queueDigest(new Date(now + MIN));
    await waitFor('the next digest', () => lab.smtp.messages[1]);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 2);
  });
});

describe('a rule with `for: 10m` when the clock steps (in-process: the observations carry the stepped time)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `lwtest-clock-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-clock-rules-'));
  writeFileSync(
    join(dir, 'memory.yaml'),
    `rules:
  - id: nas-memory-high
    source: host
    kind: memory
    when: values.used_pct >= 90
    for: "10m"
    severity: warning
    summary: "memory on {{ host }} is {{ string(values.used_pct) }} % used"
`,
  );
  const rules = loadRules(dir);
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Polls once a real minute while memory stays at 95 %, through the real watcher: its wall clock
   * is `wall(m)`, its monotonic clock `mono(m)` (one minute per poll unless said). The poll it first fires at, or null.
   */
  async function firesAfter(name: string, wall: (minute: number) => number, mono: (minute: number) => number = (m) => m * MIN): Promise<number | null> {
    const engine = new RuleEngine(redis, `${prefix}-${name}`, rules, createLogger({ level: 'silent' }));
    let m = 0;
    const collector = { name: 'host', collect: async () => [{ source: 'host', kind: 'memory', subject: 'mem:nas', host: 'nas', at: new Date(wall(m)).toISOString(), values: { used_pct: 95 } }] };
    const watcher = new Watcher([{ collector, schedule: '* * * * *', timeoutMs: 5_000, jitterMs: 0, local: true }], engine, { accept: async () => undefined }, createLogger({ level: 'silent' }), new Registry(), 'nas', undefined, {
      wall: () => wall(m),
      mono: () => mono(m),
    });
    for (m = 0; m <= 40; m++) {
      const r = await watcher.run('host');
      if (r.anomalies.some((a) => a.status === 'firing')) return m;
    }
    return null;
  }
  const t0 = Date.parse('2026-12-01T12:00:00Z');

  test('a steady clock: it fires after 10 minutes', async () => {
    assert.equal(await firesAfter('steady', (m) => t0 + m * MIN), 10);
  });

  // The watcher measures each step against the monotonic clock and the rule does not count it.
  test('the clock steps back 10 minutes 3 minutes in: it still fires after 10 minutes (not 10 minutes late)', async () => {
    assert.equal(await firesAfter('back', (m) => t0 + m * MIN - (m >= 3 ? 10 * MIN : 0)), 10);
  });

  test('the clock steps forward 1 h 3 minutes in: it still waits 10 minutes of the condition, not 3', async () => {
    assert.equal(await firesAfter('forward', (m) => t0 + m * MIN + (m >= 3 ? 60 * MIN : 0)), 10);
  });

  test('readings late or uneven (no step of the clock): the time between them counts in full', async () => {
    // polls at 0, 1 and then 31 minutes (the collector was down; both clocks moved): `for: 10m` holds at the third
    const at = (m: number) => (m <= 1 ? m : m + 29) * MIN;
    assert.equal(await firesAfter('uneven', (m) => t0 + at(m), at), 2);
  });
});

describe('reminders when the clock steps (in-process: the sweep is given the stepped time)', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ notifyExtra: { repeat_interval: '30m' } });
  });
  after(async () => {
    await lab.stop();
  });

  test('forward 1 h: one reminder, not one per missed interval; back 10 min: none until 30 min after it', async () => {
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('the first email', () => lab.smtp.messages[0]);
    await lab.drained();
    const t0 = Date.now();
    const reminders = lab.daemon.reminders!;
    assert.equal(await reminders.sweep(new Date(t0 + 60 * MIN)), 1, 'the step forward: one reminder');
    assert.equal(await reminders.sweep(new Date(t0 + 60 * MIN + 1_000)), 0, 'not a second for the second missed interval');
    await waitFor('the reminder email', () => lab.smtp.messages[1]);
    assert.equal(await reminders.sweep(new Date(t0 + 50 * MIN)), 0, 'the step back: nothing');
    assert.equal(await reminders.sweep(new Date(t0 + 89 * MIN)), 0, 'not before 30 min after the reminder');
    assert.equal(await reminders.sweep(new Date(t0 + 91 * MIN)), 1, 'then the next one');
    await waitFor('the second reminder', () => lab.smtp.messages[2]);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 3);
  });
});
