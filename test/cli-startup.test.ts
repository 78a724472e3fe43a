/**
 * The built CLI, as `npm ci && npm run build` leaves it: bin/labwatch.js runs dist/ while it was
 * built from the sources as they are and the sources once one changed, dist/ finds package.json and the shipped rules on its
 * own, and `version`/`--help` load no labwatch module beyond the command line itself.
 * Everything runs in a private copy of the checkout (src/ copied, node_modules and rules/ linked),
 * so the test neither rebuilds the real dist/ nor races an edit in the real src/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'labwatch-startup-'));
const LOADED = join(root, 'loaded.txt');
/** A resolve hook that writes down every module the process loads (ESM, which all of labwatch is). */
const RECORD = join(root, 'record.mjs');
/** The sources' mtime in the copy (whole seconds, so that setting it back restores it exactly). */
const PAST = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
after(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** labwatch's own modules the run loaded, relative to the copy (bin/…, dist/…, src/…) */
  loaded: string[];
}

function labwatch(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  rmSync(LOADED, { force: true });
  const child = spawn(process.execPath, ['--import', RECORD, join(root, 'bin/labwatch.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: root, LOADED, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    // `mcp` serves until its stdin closes: close it once the answer is in.
    if (opts.stdin && stdout.includes('\n')) child.stdin.end();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  if (opts.stdin) child.stdin.write(opts.stdin);
  else child.stdin.end();
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      let loaded: string[] = [];
      try {
        loaded = readFileSync(LOADED, 'utf8').split('\n').filter((u) => u.startsWith(`file://${root}/`) && !u.includes('/node_modules/')).map((u) => u.slice(`file://${root}/`.length));
      } catch {
        // nothing recorded
      }
      resolve({ code, stdout, stderr, loaded: [...new Set(loaded)] });
    }),
  );
}

function dateTree(dir: string, at: Date): void {
  for (const e of readdirSync(dir, { recursive: true })) utimesSync(join(dir, String(e)), at, at);
}

function build(): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(root, 'scripts/build.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

before(async () => {
  writeFileSync(
    RECORD,
    `import { register } from 'node:module';\n` +
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
        `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.LOADED, r.url + '\\n'); return r; }\n`,
      )}));\n`,
  );
  cpSync(join(REPO, 'src'), join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'scripts'));
  for (const f of ['bin/labwatch.js', 'bin/built.js', 'scripts/build.js', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) copyFileSync(join(REPO, f), join(root, f));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  symlinkSync(join(REPO, 'rules'), join(root, 'rules'));
  dateTree(join(root, 'src'), PAST);
  const b = await build();
  assert.equal(b.code, 0, b.out);
});

test('version and --help run from the build and load nothing of labwatch but the command line', async () => {
  const version = await labwatch(['version']);
  assert.equal(version.code, 0, version.stderr);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `labwatch ${pkg.version} (node ${process.version})\n`);
  assert.deepEqual(version.loaded.sort(), ['bin/built.js', 'bin/labwatch.js', 'dist/cli.js']);

  const help = await labwatch(['--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const command of ['run', 'check', 'rules', 'notify', 'tools', 'ask', 'audit', 'mcp', 'observe', 'version']) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  assert.deepEqual(help.loaded.sort(), ['bin/built.js', 'bin/labwatch.js', 'dist/cli.js']);
});

test('the build finds the shipped rules beside it: rules validate loads them from rules/, as from the sources', async () => {
  const r = await labwatch(['rules', 'validate']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^ok: \\d+ rules in \\d+ files \\(${root}/rules/\\)\\n$`));
  assert.ok(r.loaded.includes('dist/cli/watch.js') && !r.loaded.some((m) => m.startsWith('src/')), r.loaded.join(' '));
});

test('labwatch mcp from the build answers initialize, without Redis and without loading the daemon', async () => {
  const config = join(root, 'mcp.yaml');
  // Nothing listens on port 1: the incident tools are left out, the rest are served.
  writeFileSync(config, `redis:\n  url: "redis://127.0.0.1:1"\naudit:\n  file: ${join(root, 'audit.jsonl')}\n`);
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'startup-test', version: '1' } } };
  const r = await labwatch(['mcp', '--config', config], { stdin: JSON.stringify(initialize) + '\n' });
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout.split('\n')[0]!) as { id: number; result: { serverInfo: { name: string } } };
  assert.equal(answer.id, 1);
  assert.equal(answer.result.serverInfo.name, 'labwatch');
  assert.ok(r.loaded.includes('dist/cli/mcp.js'), r.loaded.join(' '));
  for (const heavy of ['dist/daemon.js', 'dist/http/server.js', 'dist/queue/index.js']) assert.ok(!r.loaded.includes(heavy), `${heavy} was loaded`);
});

test('a source changed or added since the build runs from the sources, not the stale build; stderr stays clean in a pipe', async () => {
  const fromSources = (r: Run) => assert.ok(r.loaded.includes('src/cli.ts') && !r.loaded.includes('dist/cli.js'), r.loaded.join(' '));
  const fromBuild = (r: Run) => assert.ok(r.loaded.includes('dist/cli.js') && !r.loaded.includes('src/cli.ts'), r.loaded.join(' '));
  const edited = join(root, 'src/cli/run.ts');
  // A changed file dated before the build, as `rsync -a`, `cp -p` or a tarball leave it: a "newer
  // than the build" test would run the stale build.
  const older = new Date(PAST.getTime() + 1000);
  utimesSync(edited, older, older);
  try {
    const r = await labwatch(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^labwatch \S+ \(node v/);
    assert.equal(r.stderr, '');
    fromSources(r);
  } finally {
    utimesSync(edited, PAST, PAST);
  }
  fromBuild(await labwatch(['version']));
  writeFileSync(join(root, 'src/cli/added.ts'), 'export {};\n');
  try {
    fromSources(await labwatch(['version']));
  } finally {
    rmSync(join(root, 'src/cli/added.ts'));
  }
  fromBuild(await labwatch(['version']));
  fromSources(await labwatch(['version'], { env: { LABWATCH_FROM_SOURCES: '1' } }));
});
