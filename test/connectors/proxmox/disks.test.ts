/**
 * Proxmox VE's disk list and SMART answers → the same drive observations the local smartctl
 * collector makes, read by the shipped rules/smart.yaml unchanged. Every input is a real PVE
 * answer (pve-storage's own test expectations, see the SOURCES.md of both proxmox fixture folders).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { driveFromPve, pveDisk, pveSmart, wearPctUsed, type PveDisk, type PveSmart } from '../../../src/connectors/proxmox/disks.ts';
import { driveObservation } from '../../../src/connectors/smart/collect.ts';
import type { DriveHealth } from '../../../src/connectors/smart/types.ts';
import type { Observation } from '../../../src/connectors/types.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { readFixture } from '../../helpers/fixtures.ts';

const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;
const AT = '2026-12-02T12:00:00.000Z';

/** A disklist capture is PVE's hash keyed by device; the API answers its values as an array, sorted by key. */
function diskList(file: string): PveDisk[] {
  const hash = JSON.parse(readFixture('proxmox', file)) as Record<string, unknown>;
  return z.array(pveDisk).parse(Object.keys(hash).sort().map((k) => hash[k]));
}
const disk = (file: string, devpath: string): PveDisk => {
  const found = diskList(file).find((d) => d.devpath === devpath);
  assert.ok(found, `${devpath} in ${file}`);
  return found;
};
const smart = (file: string): PveSmart => pveSmart.parse(JSON.parse(readFixture('proxmox', file)));
const observe = (d: DriveHealth): Observation => driveObservation(d, 'pve1', AT);

/** The rules that fire on one observation, as if every `for:` count were already met. */
function firing(obs: Observation): string[] {
  const ctx = contextFor(obs, undefined, [], new Date(obs.at));
  return rulesFor(RULES, obs)
    .flatMap((r) => evaluateRule(r, obs, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? [])
    .map((a) => `${a.rule} ${a.severity}`)
    .sort();
}

test('an ATA hard disk gives the counters the SMART rules read, by their homelab names', () => {
  const d = driveFromPve('pve1', disk('disks-list-hdd-rpm.internal-hash.json', '/dev/sda'), smart('disks-smart-ata-hdd.data.json'));
  const v = observe(d).values;
  assert.equal(d.subject, 'disk:00000000');
  assert.equal(d.type, 'pve-api');
  assert.deepEqual(d.messages, []);
  assert.equal(d.exit.code, 0);
  assert.deepEqual(
    { state: v.state, device: v.device, protocol: v.protocol, drive_class: v.drive_class, passed: v.passed, model: v.model },
    { state: 'ok', device: '/dev/sda', protocol: 'ATA', drive_class: 'hdd', passed: true, model: 'ST4000DM000-1F2168' },
  );
  assert.deepEqual(
    [v.reallocated_sectors, v.pending_sectors, v.offline_uncorrectable, v.udma_crc_errors, v.reported_uncorrectable],
    [0, 0, 0, 0, 0],
  );
  assert.equal(v.temperature_c, 31); // 194 raw "31 (0 17 0 0 0)"
  assert.equal(v.power_on_hours, 1250);
  assert.equal(v.attributes_failing_now, '');
  assert.equal(v.disk_failing, false);
  assert.deepEqual(d.ataAttributes!.find((a) => a.id === 1), {
    id: 1, name: 'Raw_Read_Error_Rate', value: 117, worst: 99, thresh: 6, raw: 158983656, rawString: '158983656', whenFailed: '', prefailure: true,
  });
  assert.deepEqual(firing(observe(d)), []);
});

test('an attribute smartctl marks NOW (brief FAIL column) raises the failing-now rule; the 55 °C HDD the temperature rule', () => {
  const d = driveFromPve('pve1', disk('disks-list-hdd-rpm.internal-hash.json', '/dev/sdb'), smart('disks-smart-ata-hdd-attribute-failing-now.data.json'));
  const v = observe(d).values;
  assert.equal(v.attributes_failing_now, '190 Airflow_Temperature_Cel');
  assert.equal(v.temperature_c, 55);
  assert.equal(v.drive_class, 'hdd');
  assert.deepEqual(firing(observe(d)), ['smart-attribute-failing-now critical', 'smart-temperature-high warning']);
});

test('a SATA SSD wears through its attributes, as the smart collector reads them: Kingston SSD_Life_Left 91 → 9 % used', () => {
  const kingston = disk('disks-list-ssd-wearout.internal-hash.json', '/dev/sde');
  const d = driveFromPve('pve1', kingston, smart('disks-smart-ssd-ata-attributes.data.json'));
  const v = observe(d).values;
  assert.equal(v.wear_pct_used, 9);
  assert.equal(v.wear_attribute, '231 SSD_Life_Left = 91');
  assert.equal(wearPctUsed(kingston), 9); // the disk list's wearout "91" says the same
  assert.equal(v.drive_class, 'ssd');
  assert.equal(v.temperature_c, 27); // "27 (Min/Max 2/49)"
  assert.equal(v.power_on_hours, 7963); // "7963h+07m+54.620s"
  assert.equal(v.reallocated_sectors, 0);
  assert.equal(d.ataAttributes!.find((a) => a.id === 9)!.rawString, '7963h+07m+54.620s');
});

test('an NVMe drive: its health log is read from smartctl text, and without a serial the subject names node and device', () => {
  const nvme = disk('disks-list-nvme.internal-hash.json', '/dev/nvme0n1');
  const d = driveFromPve('pve1', nvme, smart('disks-smart-nvme-text.data.json'));
  const v = observe(d).values;
  assert.equal(d.subject, 'disk:pve1:/dev/nvme0n1'); // serial "unknown"
  assert.equal('serial' in v, false);
  assert.deepEqual(
    { protocol: v.protocol, drive_class: v.drive_class, passed: v.passed, percentage_used: v.percentage_used, critical_warning: v.critical_warning, media_errors: v.media_errors },
    { protocol: 'NVMe', drive_class: 'nvme', passed: true, percentage_used: 31, critical_warning: 0, media_errors: 0 },
  );
  assert.deepEqual(
    [v.available_spare, v.available_spare_threshold, v.unsafe_shutdowns, v.temperature_c, v.power_on_hours, v.error_log_count],
    [100, 10, 21, 32, 687, 0],
  );
  assert.equal(d.nvme!.dataUnitsWritten, 5_592_478);
  assert.equal(wearPctUsed(nvme), 31);
  assert.deepEqual(firing(observe(d)), []);
});

test('an NVMe text without "Percentage Used" takes the wear from PVE\'s wearout (life left 69 → 31 % used)', () => {
  const real = smart('disks-smart-nvme-text.data.json');
  const cut = { ...real, text: real.text!.split('\n').filter((l) => !l.startsWith('Percentage Used')).join('\n') };
  const d = driveFromPve('pve1', disk('disks-list-nvme.internal-hash.json', '/dev/nvme0n1'), cut);
  assert.equal(observe(d).values.percentage_used, 31);
});

test('a SAS drive whose health says "OK" passes, with grown defects and temperature from the text', () => {
  const d = driveFromPve('pve1', disk('disks-list-sas-unknown-type.internal-hash.json', '/dev/sda'), smart('disks-smart-sas-text-health-ok.data.json'));
  const v = observe(d).values;
  assert.equal(d.subject, 'disk:SER2');
  assert.deepEqual(
    { state: v.state, protocol: v.protocol, passed: v.passed, grown_defects: v.grown_defects, temperature_c: v.temperature_c },
    { state: 'ok', protocol: 'SCSI', passed: true, grown_defects: 0, temperature_c: 20 },
  );
  // rpm -1 and type "unknown": no rotation rate, so no drive class is guessed
  assert.equal(v.drive_class, 'unknown');
  // -A prints no error counter log and no power-on line: unknown, not 0
  assert.equal('uncorrected_errors' in v, false);
  assert.equal('power_on_hours' in v, false);
});

test('health UNKNOWN is an unreadable drive, not a healthy one: state error, no counters, the unreadable rule', () => {
  const sdb = disk('disks-list-usages-lvm-zfs-osd.internal-hash.json', '/dev/sdb');
  assert.equal(wearPctUsed(sdb), undefined); // wearout "N/A"
  // API2/Disks.pm `smart`: a failed smartctl is swallowed and the answer is {health: "UNKNOWN"}
  for (const d of [driveFromPve('pve1', sdb, pveSmart.parse({ health: 'UNKNOWN' })), driveFromPve('pve1', sdb, undefined)]) {
    const v = observe(d).values;
    assert.equal(v.state, 'error');
    assert.match(String(v.error), /\/dev\/sdb on node pve1/);
    assert.equal('passed' in v, false);
    assert.equal('reallocated_sectors' in v, false);
    assert.deepEqual(firing(observe(d)), ['smart-drive-unreadable warning']);
  }
});

test('every disk of every PVE disk list maps to a drive; string numbers and "N/A" are read as PVE means them', () => {
  for (const file of ['disks-list-nvme.internal-hash.json', 'disks-list-ssd-wearout.internal-hash.json', 'disks-list-usages-lvm-zfs-osd.internal-hash.json', 'disks-list-hdd-rpm.internal-hash.json', 'disks-list-sas-unknown-type.internal-hash.json']) {
    for (const d of diskList(file)) {
      const drive = driveFromPve('pve1', d, undefined);
      assert.ok(drive.subject.startsWith('disk:'), file);
      assert.equal(drive.state, d.health === 'PASSED' ? 'ok' : 'error', `${file} ${d.devpath}`);
    }
  }
  assert.deepEqual(diskList('disks-list-ssd-wearout.internal-hash.json').map(wearPctUsed), [0, 3, 1, 0, 9]);
});

test('a disk list entry that is not PVE\'s is refused with the field that is wrong', () => {
  const r = pveDisk.safeParse({ devpath: '/dev/sda', rpm: 'fast' });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues.map((i) => i.path), [['rpm']]);
});
