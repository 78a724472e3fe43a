import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Circuit } from '../../src/notify/circuit.ts';

test('a channel trips after N failures in a row, then backs off doubling up to the maximum, and one success closes it', () => {
  let now = 0;
  const c = new Circuit('email', { threshold: 3, cooldownMs: 1000, maxCooldownMs: 5000 }, () => now);
  assert.equal(c.failure(), undefined);
  assert.equal(c.failure(), undefined);
  assert.equal(c.waitMs(), 0, 'two failures: still closed');
  assert.equal(c.failure(), 1000, 'the third opens it');
  assert.equal(c.waitMs(), 1000);
  now = 1000;
  assert.equal(c.waitMs(), 0, 'after the cooldown it may be tried again');
  assert.equal(c.failure(), 2000, 'known down: the next failure re-opens it at once, doubled');
  now = 3000;
  assert.equal(c.failure(), 4000);
  now = 7000;
  assert.equal(c.failure(), 5000, 'capped');
  c.success();
  assert.equal(c.waitMs(), 0);
  assert.equal(c.failure(), undefined, 'healthy again: back to counting to the threshold');
});
