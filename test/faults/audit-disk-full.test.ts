/**
 * The audit file cannot be written, for a real `labwatch run`: on a full disk (a link to /dev/full,
 * where every write fails with ENOSPC), on a read-only file for root (the immutable attribute,
 * chattr +i: EPERM even for root), and on a file of mode 0444 (EACCES; only when not root, as root
 * ignores the mode). In each case the daemon keeps notifying — the default check runs and is in
 * the report — the log names the file and the error once, and /readyz stays 200 with a warning.
 * test/e2e/audit-unwritable.test.ts covers a full tmpfs and ENOTDIR in-process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedFixture } from '../helpers/fixtures.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { Channels, faultYaml, groupAlert, killAll, metricOf, postAlert } from './rig.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const isRoot = process.getuid?.() === 0;

interface Place {
  what: string;
  /** the error code every write gets */
  code: string;
  /** null: cannot be made here, with the reason in skip */
  file: string | null;
  skip?: string;
  dispose(): void;
}

function fullDisk(): Place {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-devfull-'));
  const file = join(dir, 'audit.jsonl');
  symlinkSync('/dev/full', file); // a link, so nothing labwatch does to the path (rotation) touches /dev/full itself
  return { what: 'on a full disk (/dev/full)', code: 'ENOSPC', file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function immutable(): Place {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-immutable-'));
  const file = join(dir, 'audit.jsonl');
  writeFileSync(file, '');
  try {
    execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return { what: 'on an immutable file (chattr +i)', code: 'EPERM', file: null, skip: 'chattr +i needs root (CAP_LINUX_IMMUTABLE) on ext4/xfs/btrfs', dispose: () => {} };
  }
  return {
    what: 'on an immutable file (chattr +i)',
    code: 'EPERM',
    file,
    dispose: () => {
      execFileSync('chattr', ['-i', file]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readOnlyMode(): Place {
  if (isRoot) return { what: 'on a file of mode 0444', code: 'EACCES', file: null, skip: 'root writes a 0444 file all the same; the immutable case covers root', dispose: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-0444-'));
  const file = join(dir, 'audit.jsonl');
  writeFileSync(file, '', { mode: 0o444 });
  return { what: 'on a file of mode 0444', code: 'EACCES', file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The failing drive's alert, as smartctl_exporter's rules name it (the real 0.21 payload, relabelled). */
function driveAlert(serial: string, host: string): string {
  const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string>; fingerprint?: string }[]; groupKey: string; commonLabels: Record<string, string> };
  const labels = { alertname: 'SmartDeviceFailing', instance: `${host}:9633`, severity: 'critical', serial_number: serial };
  p.alerts[0]!.labels = labels;
  delete p.alerts[0]!.fingerprint;
  p.commonLabels = labels;
  p.groupKey = `{}:{alertname="SmartDeviceFailing",instance="${host}:9633"}`;
  return JSON.stringify(p);
}

let redis: PrivateRedis;
const smartDir = mkdtempSync(join(tmpdir(), 'labwatch-smartctl-'));
before(async () => {
  redis = await new PrivateRedis().start();
  const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
  scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
  writeFileSync(join(smartDir, 'scan.json'), JSON.stringify(scan));
  copyFileSync(join(SMART, 'sata-hdd-healthy-wd-red-wd20efrx.json'), join(smartDir, 'sda.json'));
});
after(async () => {
  await redis.stop();
  rmSync(smartDir, { recursive: true, force: true });
});

for (const [i, make] of [fullDisk, immutable, readOnlyMode].entries()) {
  const place = make();
  describe(`the audit file ${place.what}`, () => {
    if (!place.file) {
      test(`skipped: ${place.skip}`, { skip: place.skip }, () => {});
      return;
    }
    const file = place.file;
    let channels: Channels;
    let lab: LabwatchProcess;
    const procs: LabwatchProcess[] = [];
    before(async () => {
      channels = await new Channels().start();
      lab = await startLabwatch(
        faultYaml({
          redisUrl: redis.url,
          prefix: `lwfault-audit-${i}`,
          channels,
          notify: '  group_wait: 0s',
          auditFile: file,
          // The collector never runs on its own (1 January); only the default check calls smartctl.
          watch: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\n  host: { enabled: false }`,
        }),
        { FAKE_SMARTCTL_DIR: smartDir },
      );
      procs.push(lab);
    });
    after(async () => {
      await killAll(procs);
      await channels.stop();
      place.dispose();
    });

    test(`labwatch keeps notifying; the log says ${place.code} once; /readyz is 200 with a warning`, { timeout: 40_000 }, async (t) => {
      const started = Date.now();
      assert.equal((await postAlert(lab.url, driveAlert('REDACTED', 'nas1'))).status, 200);
      assert.equal((await postAlert(lab.url, groupAlert('nas2'))).status, 200);
      await waitFor('2 emails and 2 ntfy messages', () => channels.smtp.messages.length >= 2 && channels.ntfy.published.length >= 2, 20_000, 50);
      const took = Date.now() - started;
      const texts = channels.smtp.messages.map((m) => m.parsed.text ?? '').join('\n----\n');
      assert.match(texts, /disk:REDACTED WDC WD20EFRX-68EUZN0 state ok/, 'the default check ran and is in the report');

      await waitFor('the lost write counted', async () => ((await metricOf(lab.url, 'labwatch_audit_write_failures_total{sink="file"}')) ?? 0) >= 1, 10_000);
      const ready = await fetch(`${lab.url}/readyz`);
      const body = (await ready.json()) as { status: string; warnings?: Record<string, string> };
      assert.equal(ready.status, 200, 'a daemon that notifies stays ready');
      assert.match(body.warnings?.audit ?? '', new RegExp(`cannot write the audit file ${file}: ${place.code}`));
      const logged = lab.lines().filter((l) => l.msg.includes('cannot write the audit file') || String(l.err ?? '').includes('cannot write the audit file'));
      assert.equal(logged.length, 1, `logged once, not once per call: ${JSON.stringify(logged)}`);
      assert.match(JSON.stringify(logged[0]), new RegExp(place.code));
      assert.ok(!lab.lines().some((l) => /job failed/.test(l.msg)), 'no job failed');
      t.diagnostic(`${place.code}: 2 critical alerts (one with a default check) notified in ${took} ms, ${await metricOf(lab.url, 'labwatch_audit_write_failures_total{sink="file"}')} audit writes lost and counted; log: ${JSON.stringify(logged[0]?.msg)} ${JSON.stringify(logged[0]?.err ?? '')}`);
    });
  });
}
