/**
 * Any output a smartctl, a zpool or an Alertmanager can send yields a value or a clear error:
 * fast-check damages the real captures (test/fuzz/mutate.ts) and each parser, run as its
 * collector or the webhook runs it, must never crash, hang, pollute a prototype or give back a
 * value that cannot be stored (test/fuzz/oracle.ts). LABWATCH_FUZZ_RUNS sets the inputs per
 * parser (default 200; bench/fuzz.ts runs 100,000).
 *
 * The named cases below are inputs that once were defects, kept so they stay fixed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseZpoolList, parseZpoolStatusJson, parseZpoolStatusText, ZpoolParseError } from '../../src/connectors/zfs/parse.ts';
import { readFixture } from '../helpers/fixtures.ts';
import { deepJson } from './mutate.ts';
import { judge, runs, show } from './oracle.ts';
import { parserTargets } from './targets.ts';

const TARGETS = parserTargets();

describe('any input to a parser yields a value or its own error', () => {
  for (const t of TARGETS) {
    test(`${t.name}: ${runs()} damaged captures`, async () => {
      await fc.assert(
        fc.asyncProperty(t.inputs, async (input) => {
          const o = await judge(t, input);
          if (o.kind === 'defect') throw new Error(`${o.why}\ninput: ${show(input)}`);
        }),
        { numRuns: runs() },
      );
    });
  }

  for (const t of TARGETS.filter((x) => x.baseline === 'JSON.parse')) {
    test(`${t.name}: 10,000- and 100,000-deep JSON is refused with its own error`, async () => {
      for (const input of [...deepJson(10_000), ...deepJson(100_000)]) {
        const o = await judge(t, input);
        assert.equal(o.kind, 'error', `${o.kind === 'defect' ? o.why : 'accepted'}: ${show(input)}`);
      }
    });
  }
});

/** A vdev nested `depth` levels under the pool's root, in `zpool status -j`'s shape. */
function nestedVdevs(depth: number): string {
  let v = '{"name":"sda","vdev_type":"disk","state":"ONLINE"}';
  for (let i = 0; i < depth; i++) v = `{"name":"mirror-${i}","vdev_type":"mirror","state":"ONLINE","vdevs":{"mirror-${i}":${v}}}`;
  return `{"output_version":{"command":"zpool status"},"pools":{"tank":{"name":"tank","state":"ONLINE","vdevs":{"tank":{"name":"tank","vdevs":{"x":${v}}}}}}}`;
}

describe('defects the fuzzing found, fixed', () => {
  test('zpool status -j with a vdev tree 5,000 levels deep is refused, not a stack overflow', () => {
    assert.throws(() => parseZpoolStatusJson(nestedVdevs(5_000)), (e) => e instanceof ZpoolParseError && /more than 32 levels deep/.test(e.message));
    assert.equal(parseZpoolStatusJson(nestedVdevs(3)).length, 1, 'a real depth still parses');
  });

  test('zpool status text whose config rows indent one more space each, 2,000 times, is refused', () => {
    const real = readFixture('zpool', 'status-scrub-in-progress.txt');
    const rows = Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i + 8)}sd${i}  ONLINE  0 0 0`).join('\n');
    const text = real.replace(/(\tNAME[^\n]*\n[^\n]*\n)/, `$1${rows}\n`);
    assert.notEqual(text, real);
    assert.throws(() => parseZpoolStatusText(text), (e) => e instanceof ZpoolParseError && /nest more than 32 levels/.test(e.message) && e.message.length < 400);
  });

  test('a 1 MB row of zpool list is named in 100 characters, not echoed into every poll’s error', () => {
    const real = readFixture('zpool', 'list-p-two-pools-degraded.txt');
    for (const bad of [`${real}${'x'.repeat(1_000_000)}\n`, real.replace(/\n(\S+)\s/, `\n$1 ${'9x'.repeat(500_000)} `)]) {
      assert.throws(() => parseZpoolList(bad), (e) => e instanceof ZpoolParseError && e.message.length < 600, show(bad));
    }
  });

  test('zpool -j output whose output_version.command is 1 MB long is named in 100 characters', () => {
    const text = JSON.stringify({ output_version: { command: 'x'.repeat(1_000_000) }, pools: {} });
    assert.throws(() => parseZpoolStatusJson(text), (e) => e instanceof ZpoolParseError && e.message.length < 400);
  });
});
