/**
 * bench/rules.ts must keep running as rules are added: its smoke mode (the CEL/TypeScript agreement
 * check in full, every timing a few milliseconds) runs here, so a benchmark that rots fails the
 * suite the day it rots, not the day someone next runs `npm run bench:rules`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = join(ROOT, 'rules');

function smoke(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/rules.ts', '--smoke', ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

test('bench/rules.ts --smoke runs over the shipped rules, listing those without a TypeScript version as CEL-only', async () => {
  const r = await smoke();
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const [, total, compared, celOnly] = /(\d+) rules from \d+ files: (\d+) compared with TypeScript, (\d+) CEL-only/.exec(r.stdout) ?? [];
  assert.ok(total, r.stdout);
  assert.equal(Number(compared) + Number(celOnly), Number(total));
  assert.match(r.stdout, /agreement: TS = CEL for every condition and escalation/);
  assert.match(r.stdout, /prometheus-target-down +PromQL rule: runs on Prometheus series, not on these readings/);
  assert.match(r.stdout, /2\. parse time per document/);
});

test('a rule added without a TypeScript version is benchmarked in CEL alone, not a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-bench-rules-'));
  for (const f of readdirSync(RULES)) if (f.endsWith('.yaml') && !f.endsWith('.test.yaml')) copyFileSync(join(RULES, f), join(dir, f));
  writeFileSync(
    join(dir, 'extra.yaml'),
    'rules:\n  - id: host-memory-high\n    source: host\n    kind: memory\n    when: values.used_pct >= 60.0\n    severity: warning\n    summary: "memory {{ values.used_pct }} % used"\n',
  );
  const r = await smoke('--rules', dir);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  assert.match(r.stdout, /host-memory-high +on 1 observations of the round, held on 1/);
  assert.match(r.stdout, /CEL-only \(no TypeScript version in bench\/rules\.ts\): conditions [\d.]+ ns per rule eval over \d+ evals per round/);
});
