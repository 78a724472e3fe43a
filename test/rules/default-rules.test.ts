/** Every default rule ships with its tests (rules/*.test.yaml); they run here as part of npm test. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadRules } from '../../src/rules/load.ts';
import { runRuleTests } from '../../src/rules/testing.ts';

const dir = fileURLToPath(new URL('../../rules/', import.meta.url));
const testFiles = readdirSync(dir).filter((f) => f.endsWith('.test.yaml'));

test('the default rule set loads without problems', () => {
  const set = loadRules(dir);
  assert.ok(set.rules.length >= 25, `${set.rules.length} rules`);
});

test('every default rule is exercised by at least one shipped rule test', () => {
  const rules = loadRules(dir).rules.map((r) => r.id);
  const tested = testFiles.flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/rule: ([a-z0-9-]+)/g)].map((m) => m[1]));
  const untested = rules.filter((r) => !tested.includes(r));
  assert.deepEqual(untested, []);
});

for (const f of testFiles) {
  for (const r of runRuleTests(join(dir, f))) {
    test(`${f}: ${r.name}`, () => assert.deepEqual(r.failures, []));
  }
}
