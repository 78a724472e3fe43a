#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json), bundles the dashboard
// (src/web/) into dist/web/ with esbuild, and writes dist/.built, the
// mtime of every source as it was when the build started. bin/labwatch.js runs dist/ only while
// the sources still match it (bin/built.js), so an edited source never runs from a stale copy.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
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
try {
  await buildWeb(join(next, 'web'));
} catch (e) {
  rmSync(next, { recursive: true, force: true });
  process.stderr.write(`labwatch build: the dashboard bundle (src/web) failed: ${e.message}\ndist/ left as it was\n`);
  process.exit(1);
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

/**
 * The dashboard: src/web/main.ts and its CSS bundled, minified, with content-hashed names under
 * web/assets/ (served as immutable), index.html referring to them (served no-cache), and .br/.gz
 * beside every file so the daemon serves them precompressed.
 */
async function buildWeb(out) {
  const assets = join(out, 'assets');
  const result = await esbuild.build({
    entryPoints: [join(root, 'src/web/main.ts')],
    outdir: assets,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    // uPlot (half the script) is loaded by the views with charts, so the first screen parses less.
    splitting: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    tsconfig: join(root, 'src/web/tsconfig.json'),
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint);
  const js = entry && basename(entry[0]);
  const css = entry?.[1].cssBundle && basename(entry[1].cssBundle);
  if (!js || !css) throw new Error(`esbuild wrote ${outputs.map(([p]) => basename(p)).join(', ')}; expected the entry's .js and .css`);
  const page = readFileSync(join(root, 'src/web/index.html'), 'utf8').replace('%CSS%', `assets/${css}`).replace('%JS%', `assets/${js}`);
  writeFileSync(join(out, 'index.html'), page);
  for (const file of [join(out, 'index.html'), ...readdirSync(assets).map((f) => join(assets, f))]) {
    const raw = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
    writeFileSync(`${file}.br`, brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
  }
}
