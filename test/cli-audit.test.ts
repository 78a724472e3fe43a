/** `labwatch check` says whether the audit file can be written, as a user runs it (the real bin, real Redis). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL } from './helpers/lab.ts';

const BIN = new URL('../bin/labwatch.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'labwatch-cli-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(auditFile: string): Promise<{ code: number | null; stdout: string }> {
  const config = join(dir, `labwatch-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `audit:\n  file: ${auditFile}\nredis:\n  url: "${TEST_REDIS_URL}"\n`);
  const child = spawn(process.execPath, [BIN, 'check', '--config', config], { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
}

test('labwatch check passes when the audit file can be created, and creates nothing', async () => {
  const file = join(dir, 'state', 'audit.jsonl');
  const { code, stdout } = await check(file);
  assert.equal(code, 0, stdout);
  assert.match(stdout, new RegExp(`^ok {4}audit file ${file} \\(writable\\)$`, 'm'));
  assert.equal(existsSync(join(dir, 'state')), false, 'a check run as root must not leave a root-owned file behind');
});

test('labwatch check fails, naming what is in the way, when the audit file cannot be written (a regular file where its folder should be: stops root too)', async () => {
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'x');
  const { code, stdout } = await check(join(blocker, 'audit.jsonl'));
  assert.equal(code, 1, stdout);
  assert.match(stdout, new RegExp(`^FAIL {2}audit file: cannot create ${blocker}/audit\\.jsonl: ${blocker} is not a directory; fix its folder's permissions or set audit\\.file$`, 'm'));
  assert.match(stdout, /^1 problem found$/m);
});
