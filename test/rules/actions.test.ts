/**
 * Every shipped rule tells a person what to do (`actions:`), so the report without a model is
 * concrete: every rule file in rules/, including one added later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules, RuleLoadError } from '../../src/rules/load.ts';

const dir = fileURLToPath(new URL('../../rules/', import.meta.url));
const ruleFiles = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));

test('the shipped rule files are all checked', () => assert.ok(ruleFiles.length >= 5, ruleFiles.join(', ')));

for (const f of ruleFiles) {
  const rules = loadRules(join(dir, f)).rules;
  test(`${f}: every rule says what to do`, () => {
    assert.deepEqual(rules.filter((r) => r.actions.length === 0).map((r) => r.id), []);
  });
}

test('an action is a template over values with an urgency; a wrong urgency is refused with its line', () => {
  const d = mkdtempSync(join(tmpdir(), 'labwatch-actions-'));
  const file = join(d, 'r.yaml');
  writeFileSync(
    file,
    'rules:\n  - id: t-rule\n    source: smart\n    kind: drive\n    when: "true"\n    severity: warning\n    summary: s\n' +
      '    actions:\n      - text: "smartctl -t long {{ values.device }}"\n        urgency: soon\n',
  );
  const [rule] = loadRules(file).rules;
  const ctx = { values: { device: '/dev/sda' }, prev: {}, delta: {}, rate: {}, subject: 'disk:X', host: 'h', now: new Date() };
  assert.deepEqual(rule!.actions.map((a) => [a.text(ctx), a.urgency]), [['smartctl -t long /dev/sda', 'soon']]);

  writeFileSync(file, 'rules:\n  - id: t-rule\n    source: smart\n    kind: drive\n    when: "true"\n    severity: warning\n    summary: s\n    actions:\n      - text: x\n        urgency: asap\n');
  assert.throws(() => loadRules(file), (e: unknown) => e instanceof RuleLoadError && /r\.yaml:10: rule t-rule: actions\[0\]\.urgency/.test(e.problems.join('\n')));
});
