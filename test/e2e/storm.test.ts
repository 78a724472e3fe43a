/**
 * An alert storm: a thousand new alerts in one group, one request at a time (a dying NFS server,
 * a failing switch), must make one report when the group opens and one when it ends — not one per
 * alert. Grouping in time as Alertmanager does it: group_wait, then group_interval.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stormAlert, stormBody } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

const N = 1000;
let lab: Lab;
before(async () => {
  lab = await startLab({ notifyExtra: { group_wait: '2s', group_interval: '1h' } });
});
after(async () => {
  await lab.stop();
});

test('a storm of 1,000 new alerts in one group sends one report when it opens and one when it resolves, naming the count and the newest', async () => {
  for (let i = 0; i < N; i++) {
    const r = await lab.post(stormBody([stormAlert(i)]));
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  // The first report went out group_wait after the first alert, with what had arrived by then;
  // what came after waits for group_interval (an hour), and the end is urgent.
  await waitFor('the first report by email and ntfy', () => lab.smtp.messages.length >= 1 && lab.ntfy.published.length >= 1, 20_000);
  for (let i = 0; i < N; i += 250) {
    const r = await lab.post(stormBody(Array.from({ length: 250 }, (_, k) => stormAlert(i + k, 'resolved'))));
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  await waitFor('the resolution', () => lab.smtp.messages.length >= 2 && lab.ntfy.published.length >= 2, 20_000);
  // Nothing else is queued: no job waits for the hour-long group_interval any more.
  await lab.drained();
  assert.deepEqual(await lab.daemon.queues.delayed('triage'), [], 'no triage job waits for the group_interval');

  const subjects = lab.smtp.messages.map((m) => m.parsed.subject ?? '');
  assert.equal(subjects.length, 2, `two emails, not one per alert: ${subjects.join(' | ')}`);
  assert.equal(lab.ntfy.published.length, 2, 'two ntfy messages');
  assert.equal((await lab.keys('report:*')).length, 2, 'two reports were made (two triage runs)');

  const [opened, resolved] = lab.smtp.messages.map((m) => m.parsed.text ?? '');
  const firstCount = Number(/\((\d+) alerts firing in this incident\.\)/.exec(opened!)?.[1] ?? (opened!.includes('nfs-client-0000') ? 1 : 0));
  assert.ok(firstCount >= 1 && firstCount <= N, `the first report counts what had arrived: ${firstCount}`);
  assert.ok(opened!.length < 40_000, `the first report lists the newest alerts, not all of them (${opened!.length} characters)`);
  assert.match(subjects[1]!, /^\[RESOLVED\]/);
  assert.match(resolved!, new RegExp(`All ${N} alerts in this incident stopped firing`));
  assert.match(resolved!, new RegExp(`${N} changes since the last report`));
  assert.match(resolved!, /nfs-client-0999/, 'the newest alert is named');
  assert.ok(resolved!.length < 40_000, `the final report stays readable (${resolved!.length} characters)`);

  // Revisions store nothing of their own: one copy of the incident, as last reported, is kept.
  const incidentId = /inc-[0-9a-f]+-[0-9a-z]+/.exec(JSON.stringify(await lab.keys('incident:*')))![0];
  assert.deepEqual(await lab.keys(`revision:${incidentId}:*`), [`revision:${incidentId}:${(await lab.daemon.store.getIncident(incidentId))!.revision}`]);
});
