import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodeExitStatus, parseScan, parseSmartctl, SmartParseError } from '../../../src/connectors/smart/parse.ts';
import type { AtaAttribute, DriveHealth } from '../../../src/connectors/smart/types.ts';
import { readFixture, sharedFixture } from '../../helpers/fixtures.ts';

// Every expected value below was read from the fixture file named in the test.
function fixture(name: string): string {
  return readFixture('smartctl', name);
}

function parse(name: string, exitCode: number, device: string, type: string, standbyExitCode?: number): DriveHealth {
  return parseSmartctl(fixture(name), exitCode, { device, type }, standbyExitCode);
}

function attr(h: DriveHealth, id: number): AtaAttribute {
  const a = h.ataAttributes?.find((x) => x.id === id);
  assert.ok(a, `attribute ${id} present`);
  return a;
}

function setBits(h: DriveHealth): string[] {
  return Object.entries(h.exit).filter(([, v]) => v === true).map(([k]) => k);
}

function parseError(fn: () => unknown): SmartParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SmartParseError, `expected a SmartParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a SmartParseError');
}

test('decodeExitStatus(216) is DISK FAILING + prefail at threshold + error log + self-test log', () => {
  assert.deepEqual(decodeExitStatus(216), {
    code: 216,
    commandLineError: false,
    openFailedOrLowPower: false,
    commandFailed: false,
    diskFailing: true,
    prefailAtOrBelowThreshold: true,
    attributeFailedInPast: false,
    errorLogHasErrors: true,
    selfTestLogHasErrors: true,
  });
  assert.deepEqual(Object.values(decodeExitStatus(0)).filter((v) => v === true), []);
  assert.equal(decodeExitStatus(2).openFailedOrLowPower, true);
  assert.equal(decodeExitStatus(32).attributeFailedInPast, true);
});

test('healthy WD Red (sata-hdd-healthy-wd-red-wd20efrx.json) is ok and passed, with its own readings', () => {
  const h = parse('sata-hdd-healthy-wd-red-wd20efrx.json', 0, '/dev/sdb', 'sat');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.equal(h.subject, 'disk:REDACTED'); // anonymised by its publisher; still the identity
  assert.equal(h.serial, 'REDACTED');
  assert.equal(h.device, '/dev/sdb');
  assert.equal(h.type, 'sat');
  assert.equal(h.protocol, 'ATA');
  assert.equal(h.model, 'WDC WD20EFRX-68EUZN0');
  assert.equal(h.family, 'Western Digital Red');
  assert.equal(h.smartctlVersion, '7.3');
  assert.equal(h.capacityBytes, 2000398934016);
  assert.equal(h.rotationRate, 5400);
  assert.equal(h.temperatureC, 34);
  assert.equal(h.powerOnHours, 47657);
  assert.equal(h.powerCycles, 3);
  assert.equal(h.errorLogCount, 0);
  assert.deepEqual(setBits(h), []);
  assert.equal(h.ataAttributes?.length, 17);
  assert.deepEqual(attr(h, 5), {
    id: 5, name: 'Reallocated_Sector_Ct', value: 200, worst: 200, thresh: 140,
    raw: 0, rawString: '0', whenFailed: '', prefailure: true,
  });
  assert.deepEqual(h.messages, []);
  // run without -l selftest: no self-test summary rather than an invented empty one
  assert.ok(!('selfTest' in h));
  assert.ok(!('nvme' in h));
  assert.ok(!('error' in h));
});

test('healthy Samsung 860 EVO SSD (-x): rotation 0, self-test log from the extended log, error log count 0', () => {
  const h = parse('sata-ssd-healthy-samsung-860evo-xall.json', 0, '/dev/sda', 'sat');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.equal(h.subject, 'disk:S3YZNB0KB00864E');
  assert.equal(h.model, 'Samsung SSD 860 EVO 500GB');
  assert.equal(h.firmware, 'RVT02B6Q');
  assert.equal(h.smartctlVersion, '7.0');
  assert.equal(h.rotationRate, 0);
  assert.equal(h.temperatureC, 36);
  assert.equal(h.powerOnHours, 14551);
  assert.equal(h.errorLogCount, 0);
  assert.equal(attr(h, 177).raw, 278);
  assert.deepEqual(h.selfTest, {
    count: 19,
    failed: 0,
    latest: { type: 'Short offline', status: 'Completed without error', passed: true, lifetimeHours: 14417 },
    inProgress: false,
  });
});

test('Seagate with 304 reallocated sectors is still smartPassed: a level for rules, not a failed drive', () => {
  const h = parse('sata-hdd-reallocated-sectors-still-passed.json', 0, '/dev/sda', 'sat');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.deepEqual(setBits(h), []);
  const realloc = attr(h, 5);
  assert.equal(realloc.raw, 304);
  assert.equal(realloc.value, 93);
  assert.equal(realloc.thresh, 36);
  assert.equal(realloc.whenFailed, '');
  // vendor-packed raws are kept as smartctl decoded them, with the display string alongside
  assert.equal(attr(h, 194).raw, 81604378657);
  assert.equal(attr(h, 194).rawString, '33 (0 19 0 0 0)');
  assert.equal(attr(h, 188).raw, 0);
  assert.equal(h.model, 'ST3500418AS');
  assert.equal(h.temperatureC, 33);
  assert.equal(h.powerOnHours, 44668);
});

test('USB JMicron failing drive: passed false, exit 216 decoded, attribute 5 failing now, 197 pending 8', () => {
  const h = parse('sata-hdd-failing-usb-jmicron-reallocated-exit216.json', 216, '/dev/sdc', 'usbjmicron');
  assert.equal(h.state, 'ok'); // data was read; failing is what the data says, not a read error
  assert.equal(h.smartPassed, false);
  assert.equal(h.type, 'usbjmicron');
  assert.equal(h.subject, 'disk:MSK423Y20S3HBC');
  assert.equal(h.exit.code, 216);
  assert.deepEqual(setBits(h), ['diskFailing', 'prefailAtOrBelowThreshold', 'errorLogHasErrors', 'selfTestLogHasErrors']);
  assert.deepEqual(attr(h, 5), {
    id: 5, name: 'Reallocated_Sector_Ct', value: 1, worst: 1, thresh: 5,
    raw: 1975, rawString: '1975', whenFailed: 'now', prefailure: true,
  });
  assert.equal(attr(h, 197).raw, 8);
  assert.equal(attr(h, 196).raw, 3831);
  assert.equal(h.errorLogCount, 56);
  assert.deepEqual(h.selfTest, {
    count: 21,
    failed: 3,
    latest: { type: 'Short offline', status: 'Completed without error', passed: true, lifetimeHours: 42 },
    inProgress: false,
  });
  assert.equal(h.temperatureC, 25);
  assert.equal(h.powerOnHours, 65592);
});

test('HGST with 12 error-log entries: exit 64 is a fact (error log has errors), the drive still passes', () => {
  const h = parse('sata-hdd-error-log-entries-exit64.json', 64, '/dev/sdb', 'sat');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.deepEqual(setBits(h), ['errorLogHasErrors']);
  assert.equal(h.errorLogCount, 12);
  assert.equal(attr(h, 199).raw, 12);
  assert.equal(h.family, 'Hitachi/HGST Ultrastar 7K4000');
  assert.equal(h.temperatureC, 26);
  assert.equal(h.powerOnHours, 83425);
});

test('MegaRAID disk keeps type sat+megaraid,1, its warning message, and an aborted self-test is not a failure', () => {
  // argv in the file: smartctl -a -j -d megaraid,1 -i /dev/sda
  const h = parse('sata-megaraid-reallocated-attribute-warning-exit4.json', 4, '/dev/sda', 'megaraid,1');
  assert.equal(h.type, 'sat+megaraid,1');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.equal(h.subject, 'disk:XXXXXXXXXXXX');
  assert.equal(h.model, 'WD4000FYYX');
  assert.ok(!('family' in h)); // not in the drive database: no model_family
  assert.equal(h.firmware, '00.0D1K4');
  assert.deepEqual(setBits(h), ['commandFailed']);
  assert.deepEqual(h.messages, [{ severity: 'warning', text: 'Warning: This result is based on an Attribute check.' }]);
  assert.equal(attr(h, 5).raw, 387);
  assert.equal(attr(h, 5).whenFailed, '');
  assert.equal(h.selfTest?.count, 5);
  assert.equal(h.selfTest?.failed, 0);
  assert.equal(h.selfTest?.latest?.status, 'Aborted by host');
  assert.equal(h.selfTest?.latest?.passed, true);
  assert.equal(h.selfTest?.latest?.lifetimeHours, 35990);
  assert.equal(h.temperatureC, 36);
  assert.equal(h.powerOnHours, 37788);
  assert.equal(h.capacityBytes, 4000787030016);
});

test('healthy NVMe (Samsung 970 EVO Plus): health log read, no ATA attributes', () => {
  const h = parse('nvme-healthy-samsung-970evoplus.json', 0, '/dev/nvme0', 'nvme');
  assert.equal(h.state, 'ok');
  assert.equal(h.protocol, 'NVMe');
  assert.equal(h.smartPassed, true);
  assert.equal(h.model, 'Samsung SSD 970 EVO Plus 250GB');
  assert.deepEqual(h.nvme, {
    criticalWarning: 0,
    mediaErrors: 0,
    percentageUsed: 0,
    availableSpare: 100,
    availableSpareThreshold: 10,
    unsafeShutdowns: 12,
    errorLogEntries: 22,
    dataUnitsWritten: 1969459,
  });
  assert.equal(h.errorLogCount, 22);
  assert.equal(h.capacityBytes, 250059350016);
  assert.equal(h.temperatureC, 35);
  assert.equal(h.powerOnHours, 3149);
  assert.equal(h.powerCycles, 16);
  assert.ok(!('ataAttributes' in h));
  assert.ok(!('rotationRate' in h));
});

test('NVMe with 7 media errors still passes (media errors do not set passed=false)', () => {
  const h = parse('nvme-media-errors-samsung-970evo-xall.json', 0, '/dev/nvme0', 'nvme');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, true);
  assert.equal(h.subject, 'disk:S466NX0M776250H');
  assert.equal(h.nvme?.mediaErrors, 7);
  assert.equal(h.nvme?.criticalWarning, 0);
  assert.equal(h.nvme?.errorLogEntries, 62);
  assert.equal(h.nvme?.percentageUsed, 3);
  assert.equal(h.nvme?.availableSpare, 99);
  assert.equal(h.errorLogCount, 62);
  assert.deepEqual(setBits(h), []);
});

test('NVMe with critical_warning 16 fails: passed false, exit 8 = diskFailing', () => {
  const h = parse('nvme-critical-warning-failed-exit8.json', 8, '/dev/nvme0', 'nvme');
  assert.equal(h.state, 'ok');
  assert.equal(h.smartPassed, false);
  assert.equal(h.nvme?.criticalWarning, 16);
  assert.deepEqual(setBits(h), ['diskFailing']);
  assert.equal(h.model, 'SAMSUNG MZWLL3T2HAJQ-00005');
  // no user_capacity in this output: the controller's total NVM capacity stands in
  assert.equal(h.capacityBytes, 3200631791616);
  assert.equal(h.temperatureC, 40);
  assert.equal(h.powerOnHours, 18376);
});

test('SAS Hitachi (smartctl 7.3): SCSI model, revision as firmware, grown defects and uncorrected counters', () => {
  const h = parse('scsi-sas-healthy-hitachi.json', 0, '/dev/sda', 'scsi');
  assert.equal(h.state, 'ok');
  assert.equal(h.protocol, 'SCSI');
  assert.equal(h.smartPassed, true);
  assert.equal(h.model, 'HITACHI H109060SESUN600G');
  assert.equal(h.firmware, 'A690');
  assert.deepEqual(h.scsi, { grownDefects: 0, uncorrectedReadErrors: 0, uncorrectedWriteErrors: 0, uncorrectedVerifyErrors: 0 });
  assert.equal(h.temperatureC, 27);
  assert.equal(h.powerOnHours, 982);
  assert.equal(h.rotationRate, 10020);
  assert.equal(h.capacityBytes, 600127266816);
  assert.ok(!('ataAttributes' in h));
  assert.ok(!('errorLogCount' in h));
  assert.ok(!('powerCycles' in h));
});

test('SAS Seagate from smartctl 6.7 (json_format_version [0,1]) parses; no verify counter, so none reported', () => {
  const text = fixture('scsi-sas-seagate-smartctl6.7-jsonv0.1.json');
  assert.deepEqual(JSON.parse(text).json_format_version, [0, 1]);
  const h = parseSmartctl(text, 0, { device: '/dev/sdb', type: 'scsi' });
  assert.equal(h.state, 'ok');
  assert.equal(h.smartctlVersion, '6.7');
  assert.equal(h.subject, 'disk:Z4028VRY0000C810BZXB');
  assert.equal(h.model, 'SEAGATE ST1200MM0088');
  assert.equal(h.firmware, 'N004');
  assert.deepEqual(h.scsi, { grownDefects: 0, uncorrectedReadErrors: 0, uncorrectedWriteErrors: 0 });
  assert.equal(h.temperatureC, 31);
  assert.equal(h.powerOnHours, 5675);
  assert.equal(h.rotationRate, 10500);
  assert.equal(h.capacityBytes, 1200243695616);
  assert.equal(h.smartPassed, true);
});

test('drive in STANDBY (exit 2, information message, power_mode) is skipped, not failed', () => {
  for (const standbyExitCode of [undefined, 2]) {
    const h = parse('sata-standby-nocheck-exit2.json', 2, '/dev/sdc', 'sat', standbyExitCode);
    assert.equal(h.state, 'standby');
    assert.ok(!('error' in h));
    assert.equal(h.subject, 'disk:/dev/sdc'); // no serial without waking it
    assert.equal(h.exit.openFailedOrLowPower, true);
    assert.ok(!('smartPassed' in h));
    assert.ok(!('ataAttributes' in h));
    assert.deepEqual(h.messages, [{ severity: 'information', text: 'Device is in STANDBY mode, exit(2)' }]);
  }
  // labwatch's distinct `-n standby,3` exit code is recognised too
  const h = parse('sata-standby-nocheck-exit2.json', 3, '/dev/sdc', 'sat', 3);
  assert.equal(h.state, 'standby');
});

test('exit 1 "Unable to detect device type" is an error carrying smartctl\'s words', () => {
  const h = parse('error-unable-to-detect-device-type-exit1.json', 1, '/dev/nonexistent', 'auto');
  assert.equal(h.state, 'error');
  assert.equal(h.error, '/dev/nonexistent: Unable to detect device type');
  assert.equal(h.subject, 'disk:/dev/nonexistent');
  assert.equal(h.type, 'auto');
  assert.deepEqual(setBits(h), ['commandLineError']);
  assert.equal(h.smartctlVersion, '7.5');
  assert.ok(!('protocol' in h));
});

test('Windows "Open failed" (exit 2, error message) is an error, not standby, even when 2 is the standby code', () => {
  for (const standbyExitCode of [undefined, 2]) {
    const h = parse('error-open-failed-windows-exit2.json', 2, '/dev/sda', 'ata', standbyExitCode);
    assert.equal(h.state, 'error');
    assert.equal(h.error, String.raw`Smartctl open device: /dev/sda failed: \\.\PhysicalDrive0: Open failed, Error=5`);
    assert.deepEqual(setBits(h), ['openFailedOrLowPower']);
    assert.ok(!('smartPassed' in h));
  }
});

test('the exit_status smartctl wrote wins over the exit code the caller saw', () => {
  const h = parse('sata-hdd-error-log-entries-exit64.json', 0, '/dev/sdb', 'sat');
  assert.equal(h.exit.code, 64);
  assert.equal(h.exit.errorLogHasErrors, true);
});

test('text output (smartctl without --json, a sleeping disk) is a SmartParseError naming the device', () => {
  const e = parseError(() => parseSmartctl(fixture('standby-text-output.txt'), 2, { device: '/dev/sdc', type: 'sat' }));
  assert.match(e.message, /^smartctl output for \/dev\/sdc is not JSON \(.+\): first bytes "smartctl 7\.3 /);
});

test('truncated JSON (a real output cut in half) is a SmartParseError naming the device', () => {
  const text = fixture('sata-hdd-healthy-wd-red-wd20efrx.json');
  const e = parseError(() => parseSmartctl(text.slice(0, Math.floor(text.length / 2)), 0, { device: '/dev/sdb', type: 'sat' }));
  assert.match(e.message, /^smartctl output for \/dev\/sdb is not JSON \(.+\): first bytes "\{/);
  assert.match(parseError(() => parseSmartctl('', 0, { device: '/dev/sdb', type: 'sat' })).message, /\/dev\/sdb is empty/);
});

test('no fixture yields a key set to undefined: what smartctl did not report is absent', () => {
  const dir = sharedFixture('smartctl');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'scan-json.json');
  assert.equal(files.length, 14);
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      assert.notEqual(x, undefined, `${path}.${k} is undefined`);
      walk(x, `${path}.${k}`);
    }
  };
  for (const f of files) {
    const text = fixture(f);
    walk(parseSmartctl(text, JSON.parse(text).smartctl.exit_status, { device: '/dev/x', type: 'auto' }), f);
  }
});

test('parseScan lists the 7 scanned devices with their -d types', () => {
  const devices = parseScan(fixture('scan-json.json'));
  assert.deepEqual(
    devices,
    ['sda', 'sdb', 'sdc', 'sdd', 'sde', 'sdf', 'sdg'].map((d) => ({ device: `/dev/${d}`, type: 'scsi', protocol: 'SCSI' })),
  );
  assert.match(parseError(() => parseScan(fixture('standby-text-output.txt'))).message, /is not JSON/);
});
