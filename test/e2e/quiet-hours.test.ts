/** Quiet hours end to end: non-critical waits for the end of the window; critical goes out. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021, MIXED_AM09 } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
let lab: Lab;
/** When the window ends: an hour from now, to the minute as the config states it. */
let endsAt: number;
before(async () => {
  const now = Date.now();
  // A window around now, in UTC: quiet until an hour from now.
  endsAt = Math.floor((now + 3_600_000) / 60_000) * 60_000;
  lab = await startLab({ notifyExtra: { quiet_hours: { start: hhmm(new Date(now - 3_600_000)), end: hhmm(new Date(endsAt)), timezone: 'UTC' } } });
});
after(async () => {
  await lab.stop();
});

test('a warning waits for the end of quiet hours; a critical alert goes out at once', async () => {
  assert.equal((await lab.post(MIXED_AM09)).status, 200);
  assert.equal((await lab.post(FIRING_AM021)).status, 200);
  await waitFor('the critical email', () => lab.smtp.messages[0]);
  await waitFor('the critical push', () => lab.ntfy.published[0]);
  await lab.drained(); // the held warning is delayed by an hour: it does not count
  assert.equal(lab.ntfy.published.length, 1, 'the warning push is held');
  assert.equal(lab.ntfy.published[0]!.headers.title, '[CRITICAL] ni3: This is a demo');

  const held = await lab.daemon.queues.delayed('notify');
  assert.equal(held.length, 1);
  // Held until the window's end (the test's own minutes may have passed since it was configured).
  const off = held[0]!.runAt - endsAt;
  assert.ok(off >= 0 && off < 5_000, `held until ${new Date(held[0]!.runAt).toISOString()}, the window ends ${new Date(endsAt).toISOString()}`);
  assert.ok(lab.logs.some((l) => l.includes('quiet hours: held until they end')));

  // The window ends.
  await lab.daemon.queues.promote('notify', held[0]!.id);
  const push = await waitFor('the warning after quiet hours', () => lab.ntfy.published[1]);
  assert.equal(push.headers.title, '[WARNING] ServerStop');
  const text = await (await fetch(`${lab.url}/metrics`)).text();
  assert.match(text, /labwatch_notifications_total\{channel="ntfy",outcome="quiet_hours"\} 1/);
});
