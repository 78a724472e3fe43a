/**
 * systemd/labwatch.service as systemd itself reads it: `systemd-analyze verify` finds nothing to
 * say, `systemd-analyze security --offline=yes` rates it no worse than the hardening reached, and
 * the one privilege it grants is named and explained beside it.
 *
 * verify checks that ExecStart's binary exists, so it runs on a copy whose ExecStart and
 * WorkingDirectory point at this machine's node and this checkout (what `labwatch install` writes);
 * every other line is the shipped one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unitText } from '../../src/cli/install.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const SHIPPED = readFileSync(join(REPO, 'systemd/labwatch.service'), 'utf8');
const DROP_IN = readFileSync(join(REPO, 'systemd/labwatch.service.d/sys-admin.conf'), 'utf8');

/** Scores reached (systemd 252): 5.8 MEDIUM before the hardening. Lower is better. */
const MAX_EXPOSURE = 1.9;
const MAX_EXPOSURE_WITH_SYS_ADMIN = 2.2;

function analyze(args: string[]): Promise<{ code: number; out: string } | 'missing'> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', args, { timeout: 30_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve('missing');
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const missing = (await analyze(['--version'])) === 'missing' ? 'systemd-analyze is not installed (apt install systemd)' : false;

/** The unit (and the drop-in, if given) in a fresh folder, as installed on this machine. */
function installedCopy(withDropIn: boolean): { dir: string; unit: string } {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-unit-'));
  const unit = join(dir, 'labwatch.service');
  writeFileSync(unit, unitText(SHIPPED, process.execPath, join(REPO, 'bin', 'labwatch.js')));
  if (withDropIn) {
    mkdirSync(join(dir, 'labwatch.service.d'));
    copyFileSync(join(REPO, 'systemd/labwatch.service.d/sys-admin.conf'), join(dir, 'labwatch.service.d', 'sys-admin.conf'));
  }
  return { dir, unit };
}

function exposure(out: string): number {
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
  assert.ok(m, `no "Overall exposure level" line in:\n${out.slice(-500)}`);
  return Number(m[1]);
}

/**
 * Each AmbientCapabilities= line that grants CAP_SYS_ADMIN must sit under a comment that names
 * CAP_SYS_ADMIN and says what needs it. Returns the offending lines.
 */
function unexplainedSysAdmin(unit: string): string[] {
  const lines = unit.split('\n');
  const bad: string[] = [];
  lines.forEach((line, i) => {
    if (!/^AmbientCapabilities=.*\bCAP_SYS_ADMIN\b/.test(line)) return;
    const comment: string[] = [];
    for (let j = i - 1; j >= 0 && /^(#|\[|$)/.test(lines[j]!); j--) if (lines[j]!.startsWith('#')) comment.push(lines[j]!);
    const text = comment.join(' ');
    if (!(/CAP_SYS_ADMIN/.test(text) && /NVMe|zpool events/.test(text) && /ambient/i.test(text))) bad.push(line);
  });
  return bad;
}

for (const withDropIn of [false, true]) {
  const name = withDropIn ? 'the unit with the CAP_SYS_ADMIN drop-in' : 'the unit';
  const max = withDropIn ? MAX_EXPOSURE_WITH_SYS_ADMIN : MAX_EXPOSURE;

  test(`systemd-analyze verify has nothing to say about ${name}`, { skip: missing }, async () => {
    const { dir, unit } = installedCopy(withDropIn);
    try {
      const r = await analyze(['verify', unit]);
      assert.notEqual(r, 'missing');
      if (r === 'missing') return;
      assert.equal(r.out.trim(), '', 'no warnings or errors');
      assert.equal(r.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`systemd-analyze security rates ${name} at ${max} or better`, { skip: missing }, async () => {
    const { dir, unit } = installedCopy(withDropIn);
    try {
      const r = await analyze(['security', '--offline=yes', unit]);
      assert.notEqual(r, 'missing');
      if (r === 'missing') return;
      const score = exposure(r.out);
      assert.ok(score <= max, `exposure ${score} is worse than ${max}:\n${r.out.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the unit grants CAP_SYS_RAWIO only, ambient and bounded alike, and says why', () => {
  const value = (key: string) => [...SHIPPED.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim()).join(' ');
  assert.equal(value('AmbientCapabilities'), 'CAP_SYS_RAWIO');
  assert.equal(value('CapabilityBoundingSet'), 'CAP_SYS_RAWIO');
  assert.match(SHIPPED, /The one capability granted is CAP_SYS_RAWIO/);
  assert.match(SHIPPED, /CAP_SYS_ADMIN is NOT granted here/);
  assert.doesNotMatch(SHIPPED, /^MemoryDenyWriteExecute=/m, "Node's JIT needs writable+executable memory");
});

test('CAP_SYS_ADMIN is granted only by the drop-in, under a comment that says what needs it and why ambient', () => {
  assert.deepEqual(unexplainedSysAdmin(SHIPPED), []);
  assert.match(DROP_IN, /^AmbientCapabilities=CAP_SYS_ADMIN$/m);
  assert.deepEqual(unexplainedSysAdmin(DROP_IN), []);
  // and the check can fail: the same grant with its comment taken away
  const bare = DROP_IN.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  assert.deepEqual(unexplainedSysAdmin(bare), ['AmbientCapabilities=CAP_SYS_ADMIN']);
  assert.deepEqual(unexplainedSysAdmin(`${SHIPPED}\n[Service]\nAmbientCapabilities=CAP_SYS_RAWIO CAP_SYS_ADMIN\n`), ['AmbientCapabilities=CAP_SYS_RAWIO CAP_SYS_ADMIN']);
});
