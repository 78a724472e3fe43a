/** Notify's own state, shared by every labwatch process on one Redis: each claim is won once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NotifyState } from '../../src/notify/state.ts';
import { twoConnections } from '../helpers/two-processes.ts';

const prefix = `lwtest-notes-${randomBytes(3).toString('hex')}`;
const redis = twoConnections(prefix);

/** The same state as two processes see it, each over its own connection. */
const twoProcesses = (p: string) => [new NotifyState(redis.a, `${prefix}-${p}`, 3600), new NotifyState(redis.b, `${prefix}-${p}`, 3600)] as const;

test('a reminder is claimed by one process only, however many sweep at once', async () => {
  const processes = twoProcesses('remind');
  const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => processes[i % 2]!.claimReminder('inc-0123456789-abc', 1)));
  assert.equal(claims.filter(Boolean).length, 1);
  assert.equal(await processes[1].claimReminder('inc-0123456789-abc', 2), true, 'the next reminder is a new claim');
});

test('a group starts flapping once, so one process sends the flapping notice', async () => {
  const processes = twoProcesses('flap');
  const state = { since: 1, last: 1, changes: 4 };
  const starts = await Promise.all(Array.from({ length: 6 }, (_, i) => processes[i % 2]!.startFlapping('host:ni3', state)));
  assert.equal(starts.filter(Boolean).length, 1);
  assert.deepEqual((await processes[0].flapping()).get('host:ni3'), state);
});

test('the digest mark never moves back, so a late retry cannot reopen a period', async () => {
  const [one, other] = twoProcesses('digest');
  await one.markDigest('2026-12-02T07:00:00.000Z');
  await other.markDigest('2026-12-01T07:00:00.000Z');
  assert.equal(await one.lastDigest(), '2026-12-02T07:00:00.000Z');
});
