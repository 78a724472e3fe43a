import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRules, RuleLoadError } from '../../src/rules/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-rules-'));
function problems(name: string, yaml: string): string[] {
  const p = join(dir, name);
  writeFileSync(p, yaml);
  try {
    loadRules(p);
  } catch (e) {
    assert.ok(e instanceof RuleLoadError);
    return e.problems.map((x) => x.split(p).join('FILE'));
  }
  assert.fail('expected the rules to be refused');
}

const ok = (extra = '') => `  - id: r-one\n    source: smart\n    kind: drive\n    when: values.x > 0\n    severity: warning\n    summary: "x is {{ values.x }}"\n${extra}`;

test('a broken condition names file, line, rule field and the CEL error', () => {
  const found = problems('a.yaml', `rules:\n${ok().replace('values.x > 0', 'values.x >')}`);
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^FILE:5: when: Unexpected token: EOF/);
});

test('regular expressions are refused at load (no runtime cost limit in CEL)', () => {
  const [msg] = problems('b.yaml', `rules:\n${ok().replace('values.x > 0', 'string(values.x).matches("^(a+)+$")')}`);
  assert.match(msg!, /regular expressions \(matches\) are not allowed/);
});

test('a condition that is not a bool, a bad template, a missing field and a duplicate id are all reported at once', () => {
  const yaml = `rules:\n${ok().replace('values.x > 0', 'values.x + 1.0')}${ok().replace('{{ values.x }}', '{{ values.x + }}')}  - id: r-two\n    source: smart\n    kind: drive\n    when: "true"\n    summary: s\n`;
  const found = problems('c.yaml', yaml);
  assert.equal(found.length, 3, found.join('\n'));
  assert.match(found[0]!, /FILE:5: when: a condition must be a bool, this is double/);
  assert.match(found[1]!, /FILE:8: rule id r-one is already used at FILE:2/);
  assert.match(found[2]!, /FILE:14: rule r-two: severity: expected one of/);
});

test('a new valid set loads, and the folder form skips *.test.yaml files', () => {
  writeFileSync(join(dir, 'good.yaml'), `rules:\n${ok()}`);
  writeFileSync(join(dir, 'good.test.yaml'), 'tests: []\n');
  const sub = mkdtempSync(join(dir, 'set-'));
  writeFileSync(join(sub, 'good.yaml'), `rules:\n${ok()}`);
  writeFileSync(join(sub, 'good.test.yaml'), 'not: rules\n');
  assert.equal(loadRules(sub).rules.length, 1);
});
