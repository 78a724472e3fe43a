/** Repeats: an open incident is announced again every repeat_interval, once, with what changed. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { FIRING_AM021, resolvedOf } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

const H = 3_600_000;
let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(async () => {
  await lab.stop();
});

test('a critical incident still open after 24 h is announced again, once, threaded, saying what changed', async () => {
  assert.equal((await lab.post(FIRING_AM021)).status, 200);
  const first = await waitFor('the first email', () => lab.smtp.messages[0]);
  await lab.drained();
  const t0 = Date.now();
  const reminders = lab.daemon.reminders!;

  assert.equal(await reminders.sweep(new Date(t0 + 23 * H)), 0, 'not yet');
  assert.equal(await reminders.sweep(new Date(t0 + 25 * H)), 1);
  const again = await waitFor('the reminder email', () => lab.smtp.messages[1]);
  await waitFor('the reminder push', () => lab.ntfy.published[1]);
  assert.equal(again.parsed.subject, '[CRITICAL] ni3: This is a demo (still open)');
  assert.equal(again.parsed.inReplyTo, first.parsed.messageId);
  assert.match(again.parsed.text ?? '', /^Since the last notice\n {2}• Nothing changed since the last notice: it is still firing\.$/m);
  assert.match(again.parsed.text ?? '', /Still open since 2021-01-07 08:38:00 UTC/);

  // Another labwatch process sweeping at the same time sends nothing more.
  const other = new Daemon(lab.config, createLogger({ level: 'silent' }));
  await other.start();
  assert.equal(await other.reminders!.sweep(new Date(t0 + 25 * H)), 0);
  await other.stop();
  assert.equal(await reminders.sweep(new Date(t0 + 26 * H)), 0, 'the clock restarted at the reminder');

  // The alert's text changes (no new revision); the next reminder says so.
  assert.equal((await lab.post(FIRING_AM021.replace('"summary":"This is a demo"', '"summary":"This is a demo, now worse"'))).status, 200);
  assert.equal(await reminders.sweep(new Date(t0 + 50 * H)), 1);
  const third = await waitFor('the second reminder', () => lab.smtp.messages[2]);
  assert.match(third.parsed.text ?? '', /DemoAlert on ni3: was "This is a demo", now "This is a demo, now worse"/);

  // Resolved incidents are not reminded of.
  assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
  await waitFor('the resolution', () => lab.smtp.messages[3]);
  await lab.drained();
  assert.equal(await reminders.sweep(new Date(t0 + 100 * H)), 0);
  await lab.drained();
  assert.equal(lab.smtp.messages.length, 4);
});
