/**
 * Every channel down at once, then back: the mail server is stopped (nothing listens on its port)
 * and ntfy, Gotify, the Apprise API and the webhook receiver sit behind a proxy answering 502 while
 * their upstream is down. labwatch pauses each channel after notify.circuit.failures failures in a
 * row, so the attempts during the outage stay few (no retry storm), and once the channels return
 * each message is delivered exactly once, within max_cooldown and its jitter.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { Gate } from './gate.ts';
import { Channels, faultYaml, groupAlert, incidentIds, killAll, metricOf, postAlert, queuesOf } from './rig.ts';

const PREFIX = 'lwfault-channels-down';
const INCIDENTS = 6;
const OUTAGE_MS = 8_000;
const CIRCUIT = { failures: 3, cooldown: '1s', max_cooldown: '2s' };
const CHANNEL_NAMES = ['email', 'ntfy', 'webhook', 'gotify', 'apprise'] as const;

let redis: PrivateRedis;
let channels: Channels;
let view: ReturnType<typeof queuesOf>;
const gates: Record<string, Gate> = {};
const procs: LabwatchProcess[] = [];
const portOf = (url: string) => Number(new URL(url).port);

before(async () => {
  redis = await new PrivateRedis().start();
  channels = await new Channels({ all: true }).start();
  gates.email = await new Gate({ port: channels.smtp.port }).start();
  gates.ntfy = await new Gate({ port: portOf(channels.ntfy.url) }).start();
  gates.webhook = await new Gate({ port: portOf(channels.hook.url) }).start();
  gates.gotify = await new Gate({ port: portOf(channels.gotify!.url) }).start();
  gates.apprise = await new Gate({ port: portOf(channels.apprise!.url) }).start();
  view = queuesOf(redis.url, PREFIX);
});
after(async () => {
  await killAll(procs);
  await view.close();
  for (const g of Object.values(gates)) await g.stop();
  await channels.stop();
  await redis.stop();
});

test(`all five channels down for ${OUTAGE_MS / 1000} s: the circuit opens, attempts stay bounded, and each message arrives once when they return`, { timeout: 60_000 }, async (t) => {
  const lab = await startLabwatch(
    faultYaml({
      redisUrl: redis.url,
      prefix: PREFIX,
      channels,
      via: { smtpPort: gates.email!.port, ntfy: gates.ntfy!.url, webhook: gates.webhook!.url, gotify: gates.gotify!.url, apprise: gates.apprise!.url },
      notify: `  group_wait: 0s\n  group_interval: 1h\n  repeat_interval: "off"\n  circuit: ${JSON.stringify(CIRCUIT)}`,
      extra: 'queue: { attempts: 10, backoff: 200ms }',
    }),
  );
  procs.push(lab);

  await gates.email!.set('closed'); // the mail server is stopped
  for (const name of ['ntfy', 'webhook', 'gotify', 'apprise']) await gates[name]!.set('failing'); // their proxy answers 502
  const down = Date.now();
  const answered: string[] = [];
  for (let i = 0; i < INCIDENTS; i++) {
    const r = await postAlert(lab.url, groupAlert(`nas${i}`));
    assert.equal(r.status, 200);
    answered.push(`nas${i}`);
  }

  // Every channel's circuit opens during the outage.
  const series = (channel: string, outcome: string) => `labwatch_notifications_total{channel="${channel}",outcome="${outcome}"}`;
  await waitFor('the circuit to open on every channel', async () => {
    for (const c of CHANNEL_NAMES) if (!((await metricOf(lab.url, series(c, 'circuit_open'))) ?? 0)) return false;
    return true;
  }, OUTAGE_MS, 100);
  const paused = lab.lines().filter((l) => l.msg.startsWith('channel keeps failing: pausing it'));
  assert.deepEqual([...new Set(paused.map((l) => String(l.channel)))].sort(), [...CHANNEL_NAMES].sort(), 'each channel was paused, and said so');
  await sleep(OUTAGE_MS - (Date.now() - down)); // the outage itself

  const attempts: Record<string, number> = {};
  for (const c of CHANNEL_NAMES) attempts[c] = (await metricOf(lab.url, series(c, 'failed'))) ?? 0;
  const seen = { ntfy: gates.ntfy!.failedRequests, webhook: gates.webhook!.failedRequests, gotify: gates.gotify!.failedRequests, apprise: gates.apprise!.failedRequests };
  assert.equal(channels.smtp.messages.length + channels.ntfy.published.length + channels.hook.accepted.length, 0, 'nothing got through while down');

  for (const g of Object.values(gates)) await g.set('open');
  const back = Date.now();
  const ids = await incidentIds(view.redis, PREFIX);
  assert.equal(ids.length, INCIDENTS);
  await waitFor('every incident on every channel', () => Object.values(channels.perIncident()).every((m) => m.size === INCIDENTS), 20_000, 50);
  const deliveredIn = Date.now() - back;
  await view.drained(20_000);
  assert.deepEqual(channels.notOnce(ids), [], 'each message delivered exactly once');
  for (const c of CHANNEL_NAMES) assert.equal((await metricOf(lab.url, series(c, 'gave_up'))) ?? 0, 0, `${c}: no message given up`);
  assert.ok(!lab.lines().some((l) => l.msg === 'job failed for good'), 'no job gave up');

  // Bounded: a channel is tried `failures` times, then about once per cooldown (1 s, then 2 s),
  // whatever the number of messages waiting. Without the circuit each of the 6 messages would be
  // retried at 0.2, 0.4, 0.8, 1.6, 3.2 s: 6 × 6 = 36 attempts per channel.
  const bound = CIRCUIT.failures + Math.ceil(OUTAGE_MS / 1000) + 2;
  for (const c of CHANNEL_NAMES) assert.ok(attempts[c]! <= bound, `${c}: ${attempts[c]} attempts during the outage (bound ${bound})`);
  for (const [c, n] of Object.entries(seen)) assert.ok(n <= attempts[c]! && n >= CIRCUIT.failures, `${c}: the proxy saw ${n} requests, labwatch counted ${attempts[c]} failures`);

  t.diagnostic(
    `${INCIDENTS} incidents × ${CHANNEL_NAMES.length} channels down ${OUTAGE_MS} ms; attempts during the outage: ` +
      CHANNEL_NAMES.map((c) => `${c} ${attempts[c]}`).join(', ') +
      ` (proxy saw ${JSON.stringify(seen)}); circuit_open postponements: ` +
      (await Promise.all(CHANNEL_NAMES.map(async (c) => `${c} ${await metricOf(lab.url, series(c, 'circuit_open'))}`))).join(', ') +
      `; all ${INCIDENTS * CHANNEL_NAMES.length} messages delivered ${deliveredIn} ms after the channels returned, 0 twice`,
  );
  lab.child.kill('SIGTERM');
  assert.equal((await lab.exited).code, 0);
});
