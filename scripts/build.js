#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json) and writes dist/.built, the
// mtime of every source as it was when the build started. bin/labwatch.js runs dist/ only while
// the sources still match it (bin/built.js), so an edited source never runs from a stale copy.
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceTimes } from '../bin/built.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');
// Built beside dist/ and swapped in at the end: a labwatch starting meanwhile finds the old build
// or the new one, never half of one; a module deleted from src/ does not survive in dist/.
const next = join(root, '.dist-next');
const old = join(root, '.dist-old');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');

// Read before compiling: a source edited while tsc runs then differs from what is recorded.
const sources = sourceTimes();
rmSync(next, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  process.stderr.write('labwatch build: tsc failed; dist/ left as it was\n');
  process.exit(r.status ?? 1);
}
writeFileSync(join(next, '.built'), JSON.stringify({ builtAt: new Date().toISOString(), sources }) + '\n');
rmSync(old, { recursive: true, force: true });
try {
  renameSync(dist, old);
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
