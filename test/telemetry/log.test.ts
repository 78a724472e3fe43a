import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, makeScrubber } from '../../src/telemetry/log.ts';

test('configured secret values are redacted wherever they appear in a log line', () => {
  const lines: string[] = [];
  const log = createLogger({ secrets: ['s3cr3t-value', 'tk_abc"def'], destination: { write: (l) => void lines.push(l) } });
  log.info({ note: 'token is s3cr3t-value', nested: { q: 'tk_abc"def' } }, 'message mentions s3cr3t-value');
  log.info({ password: 'anything', headers: { authorization: 'Bearer x' } }, 'by key');
  const all = lines.join('');
  assert.ok(!all.includes('s3cr3t-value'));
  assert.ok(!all.includes('tk_abc'));
  assert.ok(!all.includes('anything'));
  assert.ok(!all.includes('Bearer x'));
  assert.equal((all.match(/\[REDACTED\]/g) ?? []).length, 5);
});

test('URL passwords are redacted, e.g. in a Redis URL', () => {
  const scrub = makeScrubber([]);
  assert.equal(scrub('{"redis":"redis://:hunter2@db:6379/0"}'), '{"redis":"redis://:[REDACTED]@db:6379/0"}');
  assert.equal(scrub('smtp://me:pw@mail:587'), 'smtp://me:[REDACTED]@mail:587');
});
