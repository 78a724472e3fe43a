/**
 * The audit trail is a record, not a gate: with `audit.file` on a full filesystem, every critical
 * alert is still notified, the default checks still run and reach the report, the lost writes are
 * counted and logged once, /readyz says so (and stays 200), and the Redis stream keeps every entry.
 *
 * Both places fail for root too (the tests run as root, where chmod 0555 stops nothing): a full
 * 16 KiB tmpfs (ENOSPC, the reported case; skipped where mounting is not allowed) and a path
 * through a regular file (ENOTDIR, which works everywhere).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';
import { fixturePath, sharedFixture } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');

interface Unwritable {
  file: string;
  /** the error code every write gets */
  how: string;
  /** makes the place writable again */
  heal(): void;
  dispose(): void;
}

/** A full filesystem, for real: a 16 KiB tmpfs filled up (ENOSPC stops root too). Null where mounting is not allowed. */
function fullTmpfs(): Unwritable | null {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0755', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const filler = join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(64 * 1024, 1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  return {
    file: join(dir, 'audit.jsonl'),
    how: 'ENOSPC',
    heal: () => rmSync(filler),
    dispose: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A path through a regular file: mkdir and open fail with ENOTDIR, for root too (chmod 0555 would not stop root). */
function underRegularFile(): Unwritable {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-notdir-'));
  const blocker = join(dir, 'state');
  writeFileSync(blocker, 'a regular file where the audit folder should be\n');
  return { file: join(blocker, 'audit.jsonl'), how: 'ENOTDIR', heal: () => rmSync(blocker), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One critical Alertmanager alert (the real 0.21 payload, relabelled) in its own group. */
function critical(alertname: string, labels: Record<string, string>): string {
  const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string>; fingerprint?: string }[]; groupKey: string; commonLabels: Record<string, string> };
  const all = { alertname, instance: 'nas1:9100', severity: 'critical', ...labels };
  p.alerts[0]!.labels = all;
  delete p.alerts[0]!.fingerprint;
  p.commonLabels = all;
  p.groupKey = `{}:{alertname="${alertname}"}`;
  return JSON.stringify(p);
}

async function metric(lab: Lab, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${lab.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function auditStream(lab: Lab): Promise<{ caller: string; tool: string; incident?: string; outcome: string }[]> {
  const rows = await lab.redis.xrange(`${lab.prefix}:audit`, '-', '+');
  return rows.map(([, fields]) => JSON.parse(fields[1]!) as { caller: string; tool: string; incident?: string; outcome: string });
}

const places: [string, () => Unwritable | null][] = [
  ['on a full filesystem', fullTmpfs],
  ['under a regular file', underRegularFile],
];

for (const [where, make] of places) {
  describe(`an audit file ${where}`, () => {
    const place = make();
    if (!place) {
      test('skipped: mount -t tmpfs is not allowed here (needs root or CAP_SYS_ADMIN); the ENOTDIR case still runs', { skip: true }, () => {});
      return;
    }
    const smartDir = mkdtempSync(join(tmpdir(), 'labwatch-smartctl-'));
    const zpoolDir = mkdtempSync(join(tmpdir(), 'labwatch-zpool-'));
    let lab: Lab;

    before(async () => {
      // Two drives (the real scan, trimmed to sda and sdb) and one degraded pool, replayed by test/bin.
      const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
      scan.devices = scan.devices.filter((d) => d.name === '/dev/sda' || d.name === '/dev/sdb');
      writeFileSync(join(smartDir, 'scan.json'), JSON.stringify(scan));
      copyFileSync(join(SMART, 'sata-hdd-healthy-wd-red-wd20efrx.json'), join(smartDir, 'sda.json'));
      copyFileSync(join(SMART, 'sata-ssd-healthy-samsung-860evo-xall.json'), join(smartDir, 'sdb.json'));
      copyFileSync(fixturePath('zpool', 'status-degraded-removed-device.txt'), join(zpoolDir, 'status.txt'));
      copyFileSync(fixturePath('zpool', 'list-p-two-pools-degraded.txt'), join(zpoolDir, 'list.txt'));
      process.env.FAKE_SMARTCTL_DIR = smartDir;
      process.env.FAKE_ZPOOL_DIR = zpoolDir;
      lab = await startLab({
        auditFile: place.file,
        // The collectors never run on their own (1 January); only the default checks call the tools.
        watchYaml: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: true, schedule: "0 0 1 1 *", zpool: ${join(BIN, 'zpool')} }\n  host: { enabled: false }`,
      });
    });
    after(async () => {
      await lab?.stop();
      place.dispose();
    });

    test('every critical alert is notified with its default check, the lost writes are counted, logged once and shown in /readyz; Redis keeps every entry', async () => {
      const started = Date.now();
      for (const body of [
        critical('SmartDeviceFailing', { serial_number: 'REDACTED', instance: 'nas1:9633' }),
        critical('SmartDeviceCriticalWarning', { serial_number: 'S3YZNB0KB00864E', instance: 'nas2:9633' }),
        critical('ZfsPoolDegraded', { pool: 'dummy', instance: 'nas3:9134' }),
      ])
        assert.equal((await lab.post(body)).status, 200);

      await waitFor('3 emails', () => lab.smtp.messages.length >= 3, 20_000);
      await waitFor('3 ntfy messages', () => lab.ntfy.published.length >= 3, 20_000);
      const took = Date.now() - started;
      assert.ok(took < 20_000, `notified in ${took} ms`);
      const texts = lab.smtp.messages.map((m) => m.parsed.text ?? '').join('\n----\n');
      // The default checks ran and their results are in the reports (the tool call went on).
      assert.match(texts, /disk:REDACTED WDC WD20EFRX-68EUZN0 state ok/);
      assert.match(texts, /disk:S3YZNB0KB00864E Samsung SSD 860 EVO[^\n]* state ok/);
      assert.match(texts, /dummy DEGRADED/);
      assert.doesNotMatch(texts, /could not check/);

      await lab.drained();
      const entries = await auditStream(lab);
      assert.deepEqual(entries.map((e) => `${e.caller} ${e.tool} ${e.outcome}`).sort(), [
        'triage smart_drive_health ok',
        'triage smart_drive_health ok',
        'triage zfs_pool_status ok',
      ]);
      assert.equal(new Set(entries.map((e) => e.incident)).size, 3, 'one default check per incident');

      assert.equal(await metric(lab, 'labwatch_audit_write_failures_total{sink="file"}'), 3);
      assert.equal(await metric(lab, 'labwatch_audit_write_failures_total{sink="redis"}'), 0);

      const ready = await fetch(`${lab.url}/readyz`);
      const body = (await ready.json()) as { status: string; warnings?: Record<string, string> };
      assert.equal(ready.status, 200, 'a daemon that notifies stays ready');
      assert.equal(body.status, 'ready');
      assert.match(body.warnings?.audit ?? '', new RegExp(`cannot write the audit file ${place.file}: ${place.how}`));

      const failures = lab.logs.filter((l) => l.includes('cannot write the audit file'));
      assert.equal(failures.length, 1, 'logged once, not once per call');
      assert.match(failures[0]!, new RegExp(place.how));
      assert.equal(lab.logs.filter((l) => l.includes('job failed')).length, 0, 'no job failed, not even once');
    });

    test('once the audit file can be written again, the next entry is written, the recovery is logged once and /readyz is clean', async () => {
      place.heal();
      assert.equal((await lab.post(critical('ZfsPoolStillDegraded', { pool: 'dummy', instance: 'nas4:9134' }))).status, 200);
      await waitFor('the 4th email', () => lab.smtp.messages.length >= 4, 20_000);
      await lab.drained();
      assert.ok(existsSync(place.file));
      const lines = readFileSync(place.file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 1, 'the entry made after recovery');
      assert.equal((JSON.parse(lines[0]!) as { tool: string }).tool, 'zfs_pool_status');
      assert.equal(lab.logs.filter((l) => l.includes('audit file is writable again')).length, 1);
      assert.equal(await metric(lab, 'labwatch_audit_write_failures_total{sink="file"}'), 3, 'no new failure');
      const ready = await fetch(`${lab.url}/readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready' });
      assert.equal((await auditStream(lab)).length, 4);
    });
  });
}
