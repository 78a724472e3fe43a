/**
 * Bad input at scale: every parser of test/fuzz/targets.ts over LABWATCH_FUZZ_INPUTS generated
 * inputs (default 100,000 each: damaged real captures, deep JSON, junk; test/fuzz/mutate.ts),
 * judged by test/fuzz/oracle.ts. Prints one row per parser: inputs, values, clear errors, defects,
 * inputs/s, peak heap, and the baseline measured in the same run over the same inputs (JSON.parse,
 * a line split, or the yaml parse alone). Defects are listed under the table with a shortened input.
 *
 *   node --expose-gc --import tsx bench/fuzz.ts            # everything, 100,000 inputs per parser
 *   LABWATCH_FUZZ_INPUTS=5000 LABWATCH_FUZZ_ONLY=zpool,smartctl node --expose-gc --import tsx bench/fuzz.ts
 *
 * Inputs are made and judged 500 at a time (seeded per batch, so a run is repeatable with
 * LABWATCH_FUZZ_SEED): a batch of up-to-1 MB inputs is all that is held at once.
 */
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { fileTargets, parserTargets, type FuzzTarget } from '../test/fuzz/targets.ts';
import { judge, show } from '../test/fuzz/oracle.ts';

const INPUTS = Number(process.env.LABWATCH_FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.LABWATCH_FUZZ_SEED ?? 20261124);
/** comma-separated parts of parser names: `smartctl,zpool list` */
const ONLY = process.env.LABWATCH_FUZZ_ONLY?.split(',').filter(Boolean);
const BATCH = 500;
const gc = (globalThis as { gc?: () => void }).gc;

interface Row {
  parser: string;
  inputs: number;
  values: number;
  errors: number;
  defects: number;
  perSecond: number;
  peakHeapMb: number;
  heapAfterMb: number;
  baseline: string;
  baselinePerSecond: number;
  examples: string[];
}

function baselineOf(kind: FuzzTarget['baseline']): (s: string) => void {
  switch (kind) {
    case 'JSON.parse':
      return (s) => {
        try {
          JSON.parse(s);
        } catch {
          /* the baseline only parses */
        }
      };
    case 'split lines':
      return (s) => void s.split(/\r?\n/).filter((l) => l.trim() !== '');
    case 'YAML parse':
      return (s) => {
        try {
          parseDocument(s);
        } catch {
          /* the baseline only parses */
        }
      };
  }
}

async function bench(t: FuzzTarget): Promise<Row> {
  gc?.();
  const row: Row = { parser: t.name, inputs: 0, values: 0, errors: 0, defects: 0, perSecond: 0, peakHeapMb: 0, heapAfterMb: 0, baseline: t.baseline, baselinePerSecond: 0, examples: [] };
  const base = baselineOf(t.baseline);
  let parserMs = 0;
  let baseMs = 0;
  let peak = 0;
  for (let b = 0; row.inputs < INPUTS; b++) {
    const batch = fc.sample(t.inputs, { numRuns: Math.min(BATCH, INPUTS - row.inputs), seed: SEED + b });
    // flatten the generated (rope) strings first, so neither side pays for it
    for (const s of batch) if (s.length) s.charCodeAt(s.length - 1);
    let t0 = performance.now();
    for (const s of batch) base(s);
    baseMs += performance.now() - t0;
    t0 = performance.now();
    for (const s of batch) {
      const o = await judge(t, s, 5_000);
      row.inputs++;
      if (o.kind === 'value') row.values++;
      else if (o.kind === 'error') row.errors++;
      else {
        row.defects++;
        if (row.examples.length < 5) row.examples.push(`${o.why.slice(0, 200)} ← ${show(s).slice(0, 300)}`);
      }
    }
    parserMs += performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  gc?.();
  row.perSecond = Math.round(row.inputs / (parserMs / 1000));
  row.baselinePerSecond = Math.round(row.inputs / (baseMs / 1000));
  row.peakHeapMb = Math.round(peak / 1e6);
  row.heapAfterMb = Math.round(process.memoryUsage().heapUsed / 1e6);
  return row;
}

const targets = [...parserTargets(), ...fileTargets()].filter((t) => !ONLY || ONLY.some((o) => t.name.includes(o)));
console.log(`labwatch fuzz bench ${new Date().toISOString().slice(0, 10)}: ${INPUTS} inputs per parser, seed ${SEED}, node ${process.version}${gc ? '' : ' (run with --expose-gc for the heap after GC)'}`);
const rows: Row[] = [];
for (const t of targets) {
  const r = await bench(t);
  rows.push(r);
  console.error(`  ${t.name}: ${r.inputs} inputs, ${r.defects} defects, ${r.perSecond}/s`);
}
console.log('');
console.log('| parser | inputs | values | clear errors | defects | inputs/s | peak heap MB | heap after GC MB | baseline | baseline inputs/s |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|');
for (const r of rows)
  console.log(`| ${r.parser} | ${r.inputs} | ${r.values} | ${r.errors} | ${r.defects} | ${r.perSecond} | ${r.peakHeapMb} | ${gc ? r.heapAfterMb : '-'} | ${r.baseline} | ${r.baselinePerSecond} |`);
for (const r of rows.filter((x) => x.examples.length)) {
  console.log(`\n${r.parser}: ${r.defects} defects, first ${r.examples.length}:`);
  for (const e of r.examples) console.log(`  - ${e}`);
}
process.exitCode = rows.some((r) => r.defects > 0) ? 1 : 0;
