import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quietFor } from '../../src/notify/quiet.ts';

const night = { start: '22:00', end: '07:00', timezone: 'UTC', mode: 'delay' as const };
const H = 3_600_000;

test('inside a window across midnight: the wait is until its end', () => {
  assert.equal(quietFor(night, new Date('2026-11-24T23:30:00Z')), 7.5 * H);
  assert.equal(quietFor(night, new Date('2026-11-25T06:59:30Z')), 30_000);
  assert.equal(quietFor(night, new Date('2026-11-24T22:00:00Z')), 9 * H);
});

test('outside the window, or with none configured, nothing waits', () => {
  assert.equal(quietFor(night, new Date('2026-11-24T12:00:00Z')), 0);
  assert.equal(quietFor(night, new Date('2026-11-25T07:00:00Z')), 0, 'the end is not inside');
  assert.equal(quietFor(undefined, new Date()), 0);
  assert.equal(quietFor({ ...night, start: '13:00', end: '14:00' }, new Date('2026-11-24T13:15:00Z')), 45 * 60_000);
});

test('the window is in the owner\'s timezone', () => {
  // 21:30 UTC is 22:30 in Berlin (CET, UTC+1): inside 22:00–07:00 Berlin, which ends at 06:00 UTC.
  assert.equal(quietFor({ ...night, timezone: 'Europe/Berlin' }, new Date('2026-11-24T21:30:00Z')), 8.5 * H);
  assert.equal(quietFor({ ...night, timezone: 'Europe/Berlin' }, new Date('2026-11-24T20:30:00Z')), 0);
});
