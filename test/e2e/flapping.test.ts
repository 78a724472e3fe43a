/** Flapping: firing, resolved, firing … within minutes → one notice, then quiet until it settles. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021, resolvedOf } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

let lab: Lab;
before(async () => {
  lab = await startLab({ notifyExtra: { flapping: { window: '15m', changes: 4 } } });
});
after(async () => {
  await lab.stop();
});

test('the fourth state change in 15 minutes sends one flapping notice; the rest wait; the settled state is announced once', async () => {
  const states = [FIRING_AM021, resolvedOf(FIRING_AM021), FIRING_AM021, resolvedOf(FIRING_AM021), FIRING_AM021, resolvedOf(FIRING_AM021), FIRING_AM021];
  for (const body of states) {
    assert.equal((await lab.post(body)).status, 200);
    await lab.drained();
  }
  const subjects = lab.smtp.messages.map((m) => m.parsed.subject);
  assert.deepEqual(subjects, [
    '[CRITICAL] ni3: This is a demo',
    '[RESOLVED] ni3: This is a demo',
    '[CRITICAL] ni3: This is a demo',
    '[CRITICAL] ni3: This is a demo (flapping)',
  ]);
  assert.match(lab.smtp.messages[3]!.parsed.text ?? '', /changed state 4 times in the last 15 minutes/);
  assert.equal(lab.ntfy.published.length, 4);

  const flapping = lab.daemon.flapping!;
  assert.equal(await flapping.settle(new Date(Date.now() + 5 * 60_000)), 0, 'not stable for a whole window yet');
  assert.equal(await flapping.settle(new Date(Date.now() + 16 * 60_000)), 1);
  const settled = await waitFor('the settled state', () => lab.smtp.messages[4]);
  await lab.drained();
  assert.equal(settled.parsed.subject, '[CRITICAL] ni3: This is a demo');
  assert.match(settled.parsed.text ?? '', /It settled after flapping: 7 state changes/);
  assert.equal(await flapping.settle(new Date(Date.now() + 40 * 60_000)), 0, 'announced once');
  const text = await (await fetch(`${lab.url}/metrics`)).text();
  assert.match(text, /labwatch_notifications_total\{channel="email",outcome="flapping"\} 3/);
});
