/**
 * Any config or rule file yields settings or a ConfigError / RuleLoadError naming the problems:
 * the example config and the shipped rule files, damaged as text or with YAML traps put in
 * (`__proto__:` blocks, aliases inside their own anchor, an alias bomb, 20,000-deep lines, a run
 * of lone carriage returns), go through the real loaders from a file. LABWATCH_FUZZ_RUNS sets the
 * inputs per loader (default 200, of which a quarter have a trap).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { RuleLoadError, loadRules } from '../../src/rules/load.ts';
import { judge, runs, show } from './oracle.ts';
import { fileTargets } from './targets.ts';
import { yamlTraps } from './mutate.ts';

const TARGETS = fileTargets();

describe('any config or rule file yields settings or a clear error', () => {
  for (const t of TARGETS) {
    test(`${t.name}: ${runs(0.5)} damaged files`, async () => {
      await fc.assert(
        fc.asyncProperty(t.inputs, async (input) => {
          const o = await judge(t, input);
          if (o.kind === 'defect') throw new Error(`${o.why}\ninput: ${show(input)}`);
        }),
        { numRuns: runs(0.5) },
      );
    });

    test(`${t.name}: every YAML trap on its own is refused with the loader's error`, async () => {
      for (const trap of yamlTraps()) {
        const o = await judge(t, trap);
        assert.notEqual(o.kind, 'defect', `${o.kind === 'defect' ? o.why : ''}: ${show(trap)}`);
      }
    });
  }
});

describe('defects the fuzzing found, fixed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-fuzz-files-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const problems = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ConfigError || e instanceof RuleLoadError, `threw ${String(e)}`);
      return e.message;
    }
    return assert.fail('accepted');
  };

  test('a __proto__: block in the config is an unknown key, not settings read as if written', () => {
    const f = file('proto.yaml', 'redis:\n  __proto__:\n    url: redis://injected:1\n__proto__:\n  host: injected\n');
    const msg = problems(() => loadConfig(f, {}));
    assert.match(msg, /redis: unknown key __proto__/);
    assert.match(msg, /\(top level\): unknown key __proto__/);
  });

  test('an alias inside its own anchor is refused, not a stack overflow', () => {
    assert.match(problems(() => loadConfig(file('loop.yaml', 'notify: &n\n  again: *n\n'), {})), /alias refers to a block that contains it/);
  });

  test('an alias bomb is refused with the loader’s error, in the config and in a rule file', () => {
    const bomb = yamlTraps().find((t) => t.startsWith('l0:'))!;
    assert.match(problems(() => loadConfig(file('bomb.yaml', bomb), {})), /cannot be read as YAML: Excessive alias count/);
    assert.match(problems(() => loadRules(file('bomb-rules.yaml', bomb))), /cannot be read as YAML \(Excessive alias count/);
  });

  test('a 20,000-deep line (": : : …" or "- - - …") is refused, not a RangeError out of the yaml library', () => {
    // a comment, the line, then more YAML: the yaml library throws instead of reporting
    for (const line of [': '.repeat(20_000), '- '.repeat(20_000)]) {
      assert.match(problems(() => loadConfig(file('deep.yaml', `# labwatch\n${line}\nhost: nas\n`), {})), /cannot be read as YAML \(Maximum call stack/);
      assert.match(problems(() => loadRules(file('deep-rules.yaml', `# rules\n${line}\nrules:\n  - id: x\n`))), /cannot be read as YAML \(Maximum call stack/);
    }
  });

  test('a run of lone carriage returns is refused at once with its line, not parsed for minutes', () => {
    const real = readFileSync(new URL('../../rules/network.yaml', import.meta.url), 'utf8');
    const damaged = real.replace('\n', `\n${'\r'.repeat(200_000)}`);
    const started = process.cpuUsage();
    assert.match(problems(() => loadRules(file('cr.yaml', damaged))), /:2: a carriage return not followed by a line feed/);
    assert.match(problems(() => loadConfig(file('cr-config.yaml', `host: nas\r${'\r'.repeat(200_000)}`), {})), /line 1: a carriage return not followed by a line feed/);
    const cpu = process.cpuUsage(started);
    assert.ok((cpu.user + cpu.system) / 1000 < 1000, 'refused in well under a second');
    // CRLF files are fine
    assert.ok(loadRules(file('crlf.yaml', real.replace(/\n/g, '\r\n'))).rules.length > 0);
  });
});
