/**
 * `labwatch install --systemd` through the real CLI (bin/labwatch.js), into a temporary root: the
 * files a person gets, and that nothing is touched that should not be. No user is created and no
 * systemctl runs here (--root prints those as "would run").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const BIN = join(REPO, 'bin', 'labwatch.js');
const EXAMPLE = readFileSync(join(REPO, 'config', 'labwatch.example.yaml'), 'utf8');
const UNIT = 'etc/systemd/system/labwatch.service';
const DROP_IN = 'etc/systemd/system/labwatch.service.d/sys-admin.conf';
const CONFIG = 'etc/labwatch/labwatch.yaml';

function labwatch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A temporary root; `nvme: true` makes it look like a machine with one NVMe controller. */
function tempRoot(opts: { nvme?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'labwatch-install-'));
  if (opts.nvme) mkdirSync(join(root, 'sys/class/nvme/nvme0'), { recursive: true });
  return root;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

test('installs into a root: the unit runs this node and this checkout, the example config is copied 0640', async () => {
  const root = tempRoot();
  try {
    const r = await labwatch(['install', '--systemd', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    const unit = readFileSync(join(root, UNIT), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${process.execPath} ${BIN} run --config /etc/labwatch/labwatch.yaml$`, 'm'));
    assert.match(unit, new RegExp(`^WorkingDirectory=${REPO}$`, 'm'));
    assert.match(unit, /^User=labwatch$/m);
    assert.equal(readFileSync(join(root, CONFIG), 'utf8'), EXAMPLE);
    assert.equal(statSync(join(root, CONFIG)).mode & 0o777, 0o640);
    assert.equal(statSync(join(root, 'etc/labwatch')).mode & 0o777, 0o750);
    // the machine is left alone: what needs it is said, not done
    assert.match(r.stdout, /would run: useradd --system --user-group --groups disk .*labwatch$/m);
    assert.match(r.stdout, /would run: chown root:labwatch \/etc\/labwatch\/labwatch\.yaml$/m);
    assert.match(r.stdout, /would run: systemctl daemon-reload$/m);
    assert.match(r.stdout, /systemctl enable --now labwatch/);
    // no NVMe and no ZFS in this root: no CAP_SYS_ADMIN
    assert.equal(existsSync(join(root, DROP_IN)), false);
    assert.match(r.stdout, /no CAP_SYS_ADMIN drop-in/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an existing config is kept as it is', async () => {
  const root = tempRoot();
  try {
    mkdirSync(join(root, 'etc/labwatch'), { recursive: true });
    writeFileSync(join(root, CONFIG), 'notify:\n  ntfy: { url: "https://ntfy.lan", topic: mine }\n', { mode: 0o600 });
    const r = await labwatch(['install', '--systemd', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(root, CONFIG), 'utf8'), 'notify:\n  ntfy: { url: "https://ntfy.lan", topic: mine }\n');
    assert.equal(statSync(join(root, CONFIG)).mode & 0o777, 0o600);
    assert.match(r.stdout, /labwatch\.yaml exists; kept as it is/);
    assert.ok(existsSync(join(root, UNIT)), 'the unit is still written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--dry-run prints every step and writes nothing', async () => {
  const root = tempRoot({ nvme: true });
  try {
    const before = files(root);
    const r = await labwatch(['install', '--systemd', '--dry-run', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(files(root), before);
    assert.deepEqual(readdirSync(root).sort(), ['sys']);
    for (const step of [/would create .*\/etc\/labwatch/, /would write .*labwatch\.yaml/, /would write .*labwatch\.service /, /would write .*sys-admin\.conf/, /would write .*60-labwatch-nvme\.rules/, /would run: systemctl daemon-reload/])
      assert.match(r.stdout, step);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with an NVMe drive: the CAP_SYS_ADMIN drop-in and the udev rule; --sys-admin no takes the drop-in away', async () => {
  const root = tempRoot({ nvme: true });
  try {
    const r = await labwatch(['install', '--systemd', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(root, DROP_IN), 'utf8'), readFileSync(join(REPO, 'systemd/labwatch.service.d/sys-admin.conf'), 'utf8'));
    assert.match(readFileSync(join(root, 'etc/udev/rules.d/60-labwatch-nvme.rules'), 'utf8'), /^SUBSYSTEM=="nvme", KERNEL=="nvme\[0-9\]\*", GROUP="disk", MODE="0640"$/m);
    assert.match(r.stdout, /would run: udevadm trigger --action=change --subsystem-match=nvme/);

    const no = await labwatch(['install', '--systemd', '--root', root, '--sys-admin', 'no']);
    assert.equal(no.code, 0, no.stderr);
    assert.equal(existsSync(join(root, DROP_IN)), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('install without --systemd says what is missing and exits 1', async () => {
  const r = await labwatch(['install']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /say what to install: --systemd/);
});

test('on a machine without systemd the real install stops before changing anything', { skip: existsSync('/run/systemd/system') ? 'systemd runs here: this would install for real' : false }, async () => {
  const r = await labwatch(['install', '--systemd']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /systemd is not running on this machine/);
  assert.doesNotMatch(r.stdout, /^ {2}(create|write|run:) /m);
});
