/**
 * Watching end to end: test/bin/smartctl and test/bin/zpool replay real fixtures through the real
 * exec path; the daemon's collectors, rules, incidents and notifications run for real.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, type Lab } from '../helpers/lab.ts';
import { smartCollector } from '../../src/connectors/smart/collect.ts';
import { SmartReader } from '../../src/connectors/smart/read.ts';
import { waitFor } from '../helpers/wait.ts';
import { fixturePath, sharedFixture } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const CLI = fileURLToPath(new URL('../../bin/labwatch.js', import.meta.url));

/** A scenario folder for test/bin/smartctl: device basename → fixture file and exit status. */
function smartScenario(devices: Record<string, { fixture: string; exit: number } | { json: string; exit: number }>, onlyThese = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-smartctl-'));
  // The real scan lists sda…sdg; `onlyThese` trims its device list to the ones given (nothing else changes).
  const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
  if (onlyThese) scan.devices = scan.devices.filter((d) => d.name.replace('/dev/', '') in devices);
  writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
  for (const [name, d] of Object.entries(devices)) {
    if ('fixture' in d) copyFileSync(join(SMART, d.fixture), join(dir, `${name}.json`));
    else writeFileSync(join(dir, `${name}.json`), d.json);
    writeFileSync(join(dir, `${name}.exit`), String(d.exit));
  }
  return dir;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: `${BIN}:${process.env.PATH}`, HOME: tmpdir(), ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('SMART through the real exec path', () => {
  // The scan (a real --scan output) lists sda…sdg; each gets one real fixture family.
  const dir = smartScenario({
    sda: { fixture: 'sata-hdd-healthy-wd-red-wd20efrx.json', exit: 0 },
    sdb: { fixture: 'sata-ssd-healthy-samsung-860evo-xall.json', exit: 0 },
    sdc: { fixture: 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json', exit: 216 },
    sdd: { fixture: 'nvme-critical-warning-failed-exit8.json', exit: 8 },
    // Recorded with plain -n standby (exit 2); with labwatch's -n standby,3 smartctl exits 3 (smartctl(8)).
    sde: { fixture: 'sata-standby-nocheck-exit2.json', exit: 3 },
    sdf: { fixture: 'scsi-sas-healthy-hitachi.json', exit: 0 },
    sdg: { fixture: 'error-open-failed-windows-exit2.json', exit: 2 },
  });
  let out: { subject: string; values: Record<string, unknown>; rules: { rule: string; severity?: string }[] }[];

  before(async () => {
    const cfg = join(dir, 'labwatch.yaml');
    writeFileSync(cfg, `watch:\n  smart:\n    smartctl: ${join(BIN, 'smartctl')}\n`);
    const r = await cli(['observe', 'smart', '--json', '--config', cfg], { FAKE_SMARTCTL_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    out = (JSON.parse(r.stdout) as typeof out).filter((o) => o.subject.startsWith('disk:'));
  });

  test('every drive is read with the type from the scan and -n standby,3, never autodetected', () => {
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.equal(calls[0], '--scan-open --json');
    assert.equal(calls.length, 8);
    for (const c of calls.slice(1)) assert.match(c, /^--json -x -n standby,3 -d scsi \/dev\/sd[a-g]$/);
  });

  test('a sleeping drive is skipped as standby, not missing and not failed', () => {
    const sleeping = out.find((o) => o.values.device === '/dev/sde')!;
    assert.equal(sleeping.values.state, 'standby');
    assert.equal(sleeping.values.temperature_c, undefined, 'no stale numbers for a sleeping drive');
    assert.deepEqual(sleeping.rules, []);
  });

  test('the failing USB drive and the NVMe with a critical warning are raised; healthy drives are quiet', () => {
    const failing = out.find((o) => o.values.device === '/dev/sdc')!;
    assert.equal(failing.values.state, 'ok');
    assert.equal(failing.values.reallocated_sectors, 1975);
    assert.deepEqual(
      failing.rules.map((r) => r.rule).sort(),
      ['smart-attribute-failing-now', 'smart-health-failing', 'smart-pending-sectors', 'smart-reallocated-sectors'],
    );
    const nvme = out.find((o) => o.values.device === '/dev/sdd')!;
    assert.ok(nvme.rules.some((r) => r.rule === 'nvme-critical-warning' && r.severity === 'critical'));
    for (const dev of ['/dev/sda', '/dev/sdb', '/dev/sdf']) assert.deepEqual(out.find((o) => o.values.device === dev)!.rules, [], dev);
  });

  test('a drive smartctl cannot open is observed as an error with smartctl\'s words', () => {
    const broken = out.find((o) => o.values.device === '/dev/sdg')!;
    assert.equal(broken.values.state, 'error');
    assert.match(String(broken.values.error), /Open failed/i);
  });

  test('a drive whose output cannot be parsed is reported alone; the other drives are still read', async () => {
    const bad = smartScenario({ sda: { fixture: 'sata-hdd-healthy-wd-red-wd20efrx.json', exit: 0 }, sdb: { fixture: 'standby-text-output.txt', exit: 2 } }, true);
    const cfg = join(bad, 'labwatch.yaml');
    writeFileSync(cfg, `watch:\n  smart:\n    smartctl: ${join(BIN, 'smartctl')}\n`);
    const r = await cli(['observe', 'smart', '--json', '--config', cfg], { FAKE_SMARTCTL_DIR: bad });
    assert.equal(r.code, 0, r.stderr);
    const drives = (JSON.parse(r.stdout) as { values: Record<string, unknown> }[]).filter((o) => 'device' in o.values);
    assert.equal(drives.find((d) => d.values.device === '/dev/sda')!.values.state, 'ok');
    const broken = drives.find((d) => d.values.device === '/dev/sdb')!;
    assert.equal(broken.values.state, 'error');
    assert.match(String(broken.values.error), /smartctl output for \/dev\/sdb is not JSON/);
  });

  test('a drive that drops out of the scan is observed as missing under its serial', async () => {
    // Two fixtures with distinct real serials (several published ones are anonymised to "REDACTED").
    const two = smartScenario({ sda: { fixture: 'sata-ssd-healthy-samsung-860evo-xall.json', exit: 0 }, sdb: { fixture: 'scsi-sas-seagate-smartctl6.7-jsonv0.1.json', exit: 0 } }, true);
    process.env.FAKE_SMARTCTL_DIR = two;
    const collector = smartCollector({ host: 'nas', reader: new SmartReader({ smartctl: join(BIN, 'smartctl') }) });
    const first = await collector.collect(AbortSignal.timeout(10_000));
    const nvme = first.find((o) => o.values.device === '/dev/sdb')!;
    assert.equal(nvme.subject, 'disk:Z4028VRY0000C810BZXB');
    assert.equal(nvme.values.state, 'ok');
    // sdb is pulled: the scan no longer lists it.
    const scan = JSON.parse(readFileSync(join(two, 'scan.json'), 'utf8')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
    writeFileSync(join(two, 'scan.json'), JSON.stringify(scan));
    const second = await collector.collect(AbortSignal.timeout(10_000));
    const gone = second.find((o) => o.subject === nvme.subject)!;
    assert.equal(gone.values.state, 'missing');
    assert.equal(gone.values.device, '/dev/sdb');
  });

  test('a missing smartctl gives a clear one-line error and exit 1', async () => {
    const cfg = join(dir, 'missing.yaml');
    writeFileSync(cfg, 'watch:\n  smart:\n    smartctl: /nonexistent/smartctl\n');
    const r = await cli(['observe', 'smart', '--config', cfg], { FAKE_SMARTCTL_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /smartctl is not installed or not on PATH; install it \(e\.g\. apt install smartmontools\)/);
  });
});

describe('ZFS through the real exec path', () => {
  function scenario(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'labwatch-zpool-'));
    for (const [to, from] of Object.entries(files)) copyFileSync(fixturePath('zpool', from), join(dir, to));
    return dir;
  }
  const observe = async (dir: string) => {
    const cfg = join(dir, 'labwatch.yaml');
    writeFileSync(cfg, `watch:\n  zfs:\n    zpool: ${join(BIN, 'zpool')}\n`);
    const r = await cli(['observe', 'zfs', '--json', '--config', cfg], { FAKE_ZPOOL_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { subject: string; values: Record<string, unknown>; rules: { rule: string }[] }[];
  };

  test('without -j support it falls back to the text form: a degraded pool and its unavailable device', async () => {
    const dir = scenario({ 'status.txt': 'status-degraded-unavail-was-path-cksum-errors.txt', 'list.txt': 'list-p-two-pools-degraded.txt' });
    const out = await observe(dir);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.deepEqual(calls.filter((c) => c.startsWith('status')), ['status -jp --json-int', 'status -p']);
    const pool = out.find((o) => o.values.state === 'DEGRADED' && o.subject.startsWith('pool:'))!;
    assert.ok(pool.rules.some((r) => r.rule === 'zfs-pool-not-online'));
    const gone = out.find((o) => o.subject.startsWith('vdev:') && o.values.state === 'UNAVAIL')!;
    assert.equal(gone.values.checksum_errors, 100980);
    assert.match(String(gone.values.was_path), /^\/dev\/disk\/by-id\//);
    assert.deepEqual(gone.rules.map((r) => r.rule).sort(), ['zfs-device-errors', 'zfs-device-not-online']);
  });

  test('with -j support it reads the JSON form (OpenZFS 2.3 man-page example)', async () => {
    const dir = scenario({ 'status.json': 'status-j-c-vendor-model-size-raidz-dedup-special-manpage.json', 'list.txt': 'list-H-P-p-v-mirror.txt' });
    const out = await observe(dir);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
    assert.deepEqual(calls.filter((c) => c.startsWith('status')), ['status -jp --json-int']);
    assert.ok(out.some((o) => o.subject.startsWith('pool:')));
    assert.ok(out.filter((o) => o.subject.startsWith('vdev:')).length >= 3);
  });
});

describe('a drive degrading 0 → 4 → 12 reallocated sectors, watched by the daemon', () => {
  // Variants of the real healthy WD Red document: only attribute 5's raw count is changed
  // (no real capture of one drive's degrading sequence exists).
  const wdRed = readFileSync(join(SMART, 'sata-hdd-healthy-wd-red-wd20efrx.json'), 'utf8');
  const withReallocated = (n: number) => {
    const doc = JSON.parse(wdRed) as { ata_smart_attributes: { table: { id: number; raw: { value: number; string: string } }[] } };
    const a5 = doc.ata_smart_attributes.table.find((a) => a.id === 5)!;
    a5.raw = { value: n, string: String(n) };
    return JSON.stringify(doc);
  };
  let dir: string;
  let lab: Lab;
  before(async () => {
    dir = smartScenario({ sda: { json: withReallocated(0), exit: 0 } }, true);
    process.env.FAKE_SMARTCTL_DIR = dir;
    lab = await startLab({ watchYaml: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\n  host: { enabled: false }` });
  });
  after(async () => {
    await lab.stop();
  });

  const poll = async (n: number, day: number) => {
    writeFileSync(join(dir, 'sda.json'), withReallocated(n));
    return lab.daemon.watcher.run('smart', { now: new Date(Date.UTC(2026, 10, 1 + day)) });
  };

  test('one incident: a warning, one escalation with a time estimate, and silence while nothing changes', async () => {
    const host = (await import('node:os')).hostname();
    await poll(0, 0);
    await lab.drained();
    assert.equal(lab.ntfy.published.length + lab.smtp.messages.length, 0, 'a clean drive sends nothing');

    await poll(4, 1);
    const warning = await waitFor('the warning on ntfy', () => lab.ntfy.published[0]);
    assert.equal(warning.headers.title, `[WARNING] ${host}: disk:REDACTED: 4 reallocated sectors (+4 since the last check)`);
    assert.match(warning.body, /4 reallocated sectors/);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 0, 'a warning is emailed in the digest, not at once');

    await poll(12, 2);
    const mail = await waitFor('the escalation email', () => lab.smtp.messages[0]);
    await waitFor('the escalation on ntfy', () => lab.ntfy.published[1]);
    assert.match(mail.parsed.subject ?? '', /^\[CRITICAL\] .*12 reallocated sectors \(\+8 since the last check\) \(updated\)$/);
    assert.match(mail.parsed.text ?? '', /escalated from warning to critical/);
    assert.match(mail.parsed.text ?? '', /grows by 6 sectors\/day; at this rate it reaches 16 sectors in about 0\.7 days/);
    assert.equal(lab.ntfy.published[1]!.headers.priority, '5');
    // Without an API key, the report carries labwatch's default check of the drive (smartctl, really run).
    assert.match(mail.parsed.text ?? '', /disk:REDACTED WDC WD20EFRX-68EUZN0 state ok\n\s+\S*/);
    assert.match(mail.parsed.text ?? '', /AI triage is off \(no Anthropic API key or anthropic.base_url configured\); this report is built from the alert and labwatch's default checks\./);

    await poll(12, 3);
    await poll(12, 4);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 1, 'one email per escalation to critical, not one per poll');
    assert.equal(lab.ntfy.published.length, 2, 'one push for the warning, one for the escalation');
    assert.equal(mail.parsed.headers.get('x-labwatch-incident'), lab.ntfy.published[0]!.body.match(/incident (inc-[0-9a-z-]+)/)![1], 'one incident');
  });
});

describe('rule reload (SIGHUP)', () => {
  test('a valid new set replaces the rules; an invalid one is refused with its errors and the old set keeps running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labwatch-rules-'));
    copyFileSync(fileURLToPath(new URL('../../rules/zfs.yaml', import.meta.url)), join(dir, 'zfs.yaml'));
    const lab = await startLab({ extraYaml: `rules:\n  dir: ${dir}\n` });
    try {
      assert.equal(lab.daemon.rules.rules.files.length, 1);
      copyFileSync(fileURLToPath(new URL('../../rules/host.yaml', import.meta.url)), join(dir, 'host.yaml'));
      assert.ok(lab.daemon.reloadRules());
      assert.equal(lab.daemon.rules.rules.files.length, 2);
      writeFileSync(join(dir, 'broken.yaml'), 'rules:\n  - id: broken-rule\n    source: host\n    kind: cpu\n    when: values.load1 >\n    severity: warning\n    summary: s\n');
      assert.equal(lab.daemon.reloadRules(), null);
      assert.equal(lab.daemon.rules.rules.files.length, 2, 'the previous rules keep running');
      const refused = lab.logs.find((l) => l.includes('new rules refused'))!;
      assert.match(refused, /broken\.yaml:5: when: Unexpected token: EOF/);
    } finally {
      await lab.stop();
    }
  });
});
