import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ZpoolParseError,
  parseZpoolList,
  parseZpoolListJson,
  parseZpoolStatusJson,
  parseZpoolStatusText,
} from '../../../src/connectors/zfs/parse.ts';
import type { PoolHealth, Vdev } from '../../../src/connectors/zfs/types.ts';
import { readFixture } from '../../helpers/fixtures.ts';

/** Every input is a real output from ../shared/fixtures/zpool/ (see SOURCES.md there). */
const fixture = (name: string) => readFixture('zpool', name);

const onePool = (name: string): PoolHealth => {
  const pools = parseZpoolStatusText(fixture(name));
  assert.equal(pools.length, 1);
  return pools[0]!;
};

/** Every vdev of a pool, depth first, in the order zpool prints them. */
const allVdevs = (pool: PoolHealth): Vdev[] => {
  const out: Vdev[] = [];
  const walk = (vs: Vdev[]) => vs.forEach((v) => (out.push(v), walk(v.children)));
  for (const group of Object.values(pool.groups)) walk(group ?? []);
  return out;
};
const vdev = (pool: PoolHealth, name: string): Vdev => {
  const found = allVdevs(pool).filter((v) => v.name === name);
  assert.equal(found.length, 1, `exactly one vdev named ${name}`);
  return found[0]!;
};

/** zpool prints the host's local time; the parser reads it as local time too. */
const local = (y: number, month: number, d: number, h: number, mi: number, s: number) =>
  new Date(y, month - 1, d, h, mi, s).toISOString();

const zeros = { read: 0, write: 0, checksum: 0 };
const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

// ---- zpool status (text) ---------------------------------------------------------------------

test('degraded mirror: the UNAVAIL leaf with "corrupted data", status joined, no errors line → errors absent', () => {
  const pool = onePool('status-degraded-mirror-unavail-corrupted-data.txt');
  assert.equal(pool.name, 'dummy');
  assert.equal(pool.subject, 'pool:dummy');
  assert.equal(pool.state, 'DEGRADED');
  assert.equal(
    pool.status,
    'One or more devices could not be used because the label is missing or invalid.  Sufficient replicas exist for the pool to continue functioning in a degraded state.',
  );
  assert.equal(pool.action, "Replace the device using 'zpool replace'.");
  assert.equal(pool.see, 'https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-4J');
  assert.deepEqual(pool.counters, zeros);
  assert.deepEqual(pool.groups.data!.map((v) => [v.name, v.kind, v.state]), [
    ['mirror-0', 'mirror', 'ONLINE'],
    ['mirror-1', 'mirror', 'DEGRADED'],
  ]);
  assert.deepEqual(pool.groups.data![1]!.children.map((v) => v.name), ['loop2', 'loop3']);
  const loop3 = vdev(pool, 'loop3');
  assert.equal(loop3.kind, 'disk');
  assert.equal(loop3.state, 'UNAVAIL');
  assert.deepEqual(loop3.counters, zeros);
  assert.equal(loop3.note, 'corrupted data');
  assert.equal(vdev(pool, 'loop2').note, undefined);
  assert.deepEqual(pool.scan, {
    kind: 'scrub',
    state: 'finished',
    repairedBytes: 0,
    errors: 0,
    endedAt: local(2024, 2, 10, 20, 34, 42),
    text: 'scrub repaired 0B in 00:00:00 with 0 errors on Sat Feb 10 20:34:42 2024',
  });
  assert.equal(pool.errors, undefined, 'the published output ends at the config table');
});

test('non-root scrub with 1 error: both errors: lines (permission denied + 1 data errors)', () => {
  const pool = onePool('status-scrub-with-1-error-data-corruption-nonroot.txt');
  assert.equal(pool.state, 'ONLINE');
  assert.equal(pool.see, 'http://zfsonlinux.org/msg/ZFS-8000-8A');
  assert.equal(pool.scan.kind, 'scrub');
  assert.equal(pool.scan.state, 'finished');
  assert.equal(pool.scan.repairedBytes, 0);
  assert.equal(pool.scan.errors, 1);
  assert.equal(pool.scan.endedAt, local(2024, 2, 4, 20, 54, 25));
  assert.deepEqual(pool.errors, {
    dataErrors: 1,
    counted: true,
    permanentFiles: [],
    listUnavailable: true,
    unavailableBecause: 'permission denied',
    text: "List of errors unavailable: permission denied\n1 data errors, use '-v' for a list",
  });
  assert.equal(allVdevs(pool).length, 3, 'the errors: line right after the table ends the table');
});

test('scrub in progress: running, start time, 0.00% done, no estimate → no secondsToGo', () => {
  const pool = onePool('status-scrub-in-progress.txt');
  assert.equal(pool.state, 'ONLINE');
  assert.equal(pool.status, undefined);
  assert.deepEqual(pool.scan, {
    kind: 'scrub',
    state: 'running',
    startedAt: local(2024, 2, 11, 11, 54, 20),
    progressPct: 0,
    repairedBytes: 0,
    text:
      'scrub in progress since Sun Feb 11 11:54:20 2024\n' +
      '704G / 1.66T scanned at 5.67G/s, 0B / 1.66T issued\n' +
      '0B repaired, 0.00% done, no estimated completion time',
  });
  assert.equal(pool.errors?.dataErrors, 0);
});

test('two pools in one output, each with its own feature-upgrade status and scrub', () => {
  const pools = parseZpoolStatusText(fixture('status-two-pools-feature-upgrade-notice.txt'));
  assert.deepEqual(pools.map((p) => [p.name, p.state]), [
    ['rpool', 'ONLINE'],
    ['wilbur', 'ONLINE'],
  ]);
  for (const p of pools) {
    assert.equal(
      p.status,
      'Some supported and requested features are not enabled on the pool. The pool can still be used, but some features are unavailable.',
    );
    assert.equal(
      p.action,
      "Enable all features using 'zpool upgrade'. Once this is done, the pool may no longer be accessible by software that does not support the features. See zpool-features(7) for details.",
    );
    assert.equal(p.groups.data!.length, 1);
    assert.equal(p.groups.data![0]!.children.length, 2);
  }
  assert.equal(pools[0]!.scan.endedAt, local(2024, 2, 11, 4, 0, 1));
  assert.equal(pools[1]!.scan.endedAt, local(2024, 2, 11, 10, 20, 10));
  assert.deepEqual(pools[1]!.groups.data![0]!.children.map((v) => v.name), [
    'ata-ST8000VN004-2M2101_WSD49ZDC-part1',
    'ata-ST8000VN004-2M2101_WSD4EYEW-part1',
  ]);
});

test('REMOVED device in a degraded mirror; action text kept as printed (typo included)', () => {
  const pool = onePool('status-degraded-removed-device.txt');
  assert.equal(pool.state, 'DEGRADED');
  assert.equal(vdev(pool, 'mirror-0').state, 'DEGRADED');
  const removed = vdev(pool, 'drive0-part1');
  assert.equal(removed.state, 'REMOVED');
  assert.deepEqual(removed.counters, zeros);
  assert.equal(removed.note, undefined);
  assert.equal(vdev(pool, 'drive1-part1').state, 'ONLINE');
  assert.equal(pool.action, "Online the device using zpool online' or replace the device with 'zpool replace'.");
  assert.equal(pool.see, undefined);
  assert.equal(pool.scan.endedAt, local(2024, 10, 20, 17, 29, 34));
  assert.deepEqual(pool.errors, { dataErrors: 0, counted: true, permanentFiles: [], listUnavailable: false, text: 'No known data errors' });
});

test('leaf shown by GUID: UNAVAIL, CKSUM 100980, wasPath from "was /dev/…"', () => {
  const pool = onePool('status-degraded-unavail-was-path-cksum-errors.txt');
  assert.equal(pool.name, 'mypool');
  const guid = vdev(pool, '12345678901234567890');
  assert.equal(guid.kind, 'disk');
  assert.equal(guid.state, 'UNAVAIL');
  assert.deepEqual(guid.counters, { read: 0, write: 0, checksum: 100980 });
  assert.equal(guid.note, 'was /dev/disk/by-id/ata-ST8000DM004-xxxxxx_redacted-part1');
  assert.equal(guid.wasPath, '/dev/disk/by-id/ata-ST8000DM004-xxxxxx_redacted-part1');
  assert.equal(vdev(pool, 'mirror-0').children.length, 3);
  assert.equal(pool.scan.endedAt, local(2024, 11, 3, 15, 24, 53), '"Nov  3" with two spaces');
});

test('scrub canceled', () => {
  const pool = onePool('status-scrub-canceled.txt');
  assert.equal(pool.name, 'neptune');
  assert.deepEqual(pool.scan, {
    kind: 'scrub',
    state: 'canceled',
    endedAt: local(2026, 1, 18, 12, 18, 11),
    text: 'scrub canceled on Sun Jan 18 12:18:11 2026',
  });
});

test('new pool without a scan: line → scan kind none', () => {
  const pool = onePool('status-new-pool-no-scan-line.txt');
  assert.equal(pool.name, 'milton');
  assert.equal(pool.state, 'ONLINE');
  assert.deepEqual(pool.scan, { kind: 'none', state: 'none' });
  assert.equal(pool.status, undefined);
  assert.deepEqual(pool.groups.data!.map((v) => v.name), ['mirror-0']);
  assert.equal(pool.errors?.dataErrors, 0);
});

test('ZoL 0.7 resilver in progress: replacing-0 with the old disk by GUID and the new one resilvering', () => {
  const pool = onePool('status-resilver-in-progress-replacing-unavail-zol07.txt');
  assert.equal(pool.name, 'Data');
  assert.equal(pool.state, 'DEGRADED');
  assert.deepEqual(pool.scan, {
    kind: 'resilver',
    state: 'running',
    startedAt: local(2019, 1, 12, 11, 29, 36),
    progressPct: 0.01,
    repairedBytes: Math.round(72.2 * MiB),
    secondsToGo: 123 * 3600 + 32 * 60,
    text:
      'resilver in progress since Sat Jan 12 11:29:36 2019\n' +
      '72.6M scanned out of 1.03T at 2.42M/s, 123h32m to go\n' +
      '72.2M resilvered, 0.01% done',
  });
  const replacing = vdev(pool, 'replacing-0');
  assert.equal(replacing.kind, 'replacing');
  assert.equal(replacing.state, 'DEGRADED');
  assert.deepEqual(replacing.children.map((v) => v.name), ['4676737554230074290', 'sdd']);
  const old = replacing.children[0]!;
  assert.equal(old.state, 'UNAVAIL');
  assert.equal(old.wasPath, '/dev/disk/by-id/ata-TOSHIBA_DT01ACA300_365XDT3KS');
  const fresh = replacing.children[1]!;
  assert.equal(fresh.resilvering, true);
  assert.equal(fresh.note, '(resilvering)');
  assert.deepEqual(vdev(pool, 'mirror-0').children.map((v) => v.name), ['replacing-0', 'ata-TOSHIBA_DT01ACA300_365XDR5KS']);
});

test('three pools: CKSUM 2 on one mirror disk after a resilver, and a file vdev', () => {
  const pools = parseZpoolStatusText(fixture('status-three-pools-cksum-errors-file-vdev.txt'));
  assert.deepEqual(pools.map((p) => p.name), ['Backups', 'Data', 'default']);
  const [backups, data, dflt] = pools as [PoolHealth, PoolHealth, PoolHealth];
  assert.equal(backups.status, undefined);
  assert.equal(backups.scan.endedAt, local(2018, 11, 20, 0, 23, 13));
  assert.deepEqual(vdev(data, 'ata-TOSHIBA_DT01ACA300_365XDT3KS').counters, { read: 0, write: 0, checksum: 2 });
  assert.equal(data.see, 'http://zfsonlinux.org/msg/ZFS-8000-9P');
  assert.equal(data.scan.kind, 'resilver');
  assert.equal(data.scan.state, 'finished');
  assert.equal(data.scan.repairedBytes, Math.round(1.14 * MiB));
  assert.equal(data.scan.endedAt, local(2019, 1, 12, 10, 49, 31));
  assert.deepEqual(dflt.groups.data!.map((v) => [v.name, v.kind, v.state]), [['/var/lib/lxd/disks/default.img', 'file', 'ONLINE']]);
  for (const p of pools) assert.equal(p.errors?.dataErrors, 0);
});

test('illumos (spaces, not tabs): file vdev DEGRADED with CKSUM 24 "too many errors", scrub repaired 28.5K', () => {
  const pool = onePool('status-illumos-degraded-too-many-errors-scrub-repaired.txt');
  assert.equal(pool.state, 'DEGRADED');
  assert.deepEqual(pool.groups.data!.map((v) => [v.name, v.kind, v.state]), [
    ['/tmp/tank/vdev1', 'file', 'ONLINE'],
    ['/tmp/tank/vdev2', 'file', 'ONLINE'],
    ['/tmp/tank/vdev3', 'file', 'DEGRADED'],
  ]);
  const bad = vdev(pool, '/tmp/tank/vdev3');
  assert.deepEqual(bad.counters, { read: 0, write: 0, checksum: 24 });
  assert.equal(bad.note, 'too many errors');
  assert.equal(pool.scan.repairedBytes, 28.5 * KiB);
  assert.equal(pool.scan.errors, 0);
  assert.equal(pool.scan.endedAt, local(2017, 2, 22, 22, 34, 18));
  assert.equal(pool.see, 'http://illumos.org/msg/ZFS-8000-9P');
});

test('illumos permanent errors: CKSUM "1.37K" → 1403 (zfs_nicenum counts in 1024s), pool CKSUM 686, /tank/file listed', () => {
  const pool = onePool('status-illumos-degraded-permanent-errors-file-list.txt');
  assert.deepEqual(pool.counters, { read: 0, write: 0, checksum: 686 });
  const bad = vdev(pool, '/tmp/tank/vdev3');
  assert.deepEqual(bad.counters, { read: 0, write: 0, checksum: 1403 });
  assert.equal(bad.note, 'too many errors');
  assert.equal(pool.scan.repairedBytes, 87.5 * KiB);
  assert.equal(pool.scan.errors, 686);
  assert.equal(pool.scan.endedAt, local(2017, 2, 22, 22, 58, 40));
  assert.deepEqual(pool.errors, {
    dataErrors: 1,
    counted: true,
    permanentFiles: ['/tank/file'],
    listUnavailable: false,
    text: 'Permanent errors have been detected in the following files:\n/tank/file',
  });
});

test('raidz1 with both cache devices UNAVAIL under "cache" while the pool is ONLINE', () => {
  const pool = onePool('status-raidz1-cache-devices-unavail-zed-email.txt');
  assert.equal(pool.name, 'hdd-zfs');
  assert.equal(pool.state, 'ONLINE');
  const [raidz, ...others] = pool.groups.data!;
  assert.equal(others.length, 0, 'the cache devices are not data vdevs');
  assert.equal(raidz!.name, 'raidz1-0');
  assert.equal(raidz!.kind, 'raidz');
  assert.equal(raidz!.children.length, 4);
  assert.deepEqual(pool.groups.cache!.map((v) => [v.name, v.kind, v.state, v.counters]), [
    ['nvme0n1', 'disk', 'UNAVAIL', zeros],
    ['nvme1n1', 'disk', 'UNAVAIL', zeros],
  ]);
  assert.equal(pool.scan.endedAt, local(2025, 7, 1, 2, 5, 56));
});

test('FAULTED leaf with READ 12 WRITE 753 CKSUM 83 while the mirror and the pool say ONLINE', () => {
  const pool = onePool('status-faulted-too-many-errors-pool-still-online.txt');
  assert.equal(pool.state, 'ONLINE');
  const mirror = vdev(pool, 'mirror-0');
  assert.equal(mirror.state, 'ONLINE');
  // the reporter redacted both serials to the same name: tell the leaves apart by position
  const [first, second] = mirror.children;
  assert.equal(first!.state, 'ONLINE');
  assert.equal(second!.name, 'ata-TOSHIBA_MG08ACA16TE_64M0A0xxxxxx');
  assert.equal(second!.state, 'FAULTED');
  assert.deepEqual(second!.counters, { read: 12, write: 753, checksum: 83 });
  assert.equal(second!.note, 'too many errors');
  assert.equal(pool.scan.kind, 'resilver');
  assert.equal(pool.scan.state, 'finished');
  assert.equal(pool.scan.repairedBytes, Math.round(2.28 * MiB));
  assert.equal(pool.scan.endedAt, local(2025, 7, 14, 23, 10, 20));
  assert.equal(
    pool.action,
    "Replace the faulted device, or use 'zpool clear' to mark the device repaired.",
  );
});

test('dRAID: draid1:4d:11c:1s-0 of 11 disks, distributed spare AVAIL under "spares"', () => {
  const pool = onePool('status-draid-healthy-distributed-spare-avail.txt');
  assert.equal(pool.state, 'ONLINE');
  assert.deepEqual(pool.scan, { kind: 'none', state: 'none' });
  const [draid] = pool.groups.data!;
  assert.equal(draid!.name, 'draid1:4d:11c:1s-0');
  assert.equal(draid!.kind, 'draid');
  assert.equal(draid!.children.length, 11);
  assert.deepEqual(pool.groups.spares, [{ name: 'draid1-0-0', kind: 'draid-spare', state: 'AVAIL', children: [] }]);
  assert.equal(pool.errors, undefined, 'the docs example has no errors: line');
});

test('dRAID sequential resilver: spare-6 replacing sdg, distributed spare INUSE "currently in use"', () => {
  const pool = onePool('status-draid-sequential-resilver-distributed-spare-inuse.txt');
  assert.equal(pool.state, 'DEGRADED');
  assert.deepEqual(pool.scan, {
    kind: 'resilver',
    state: 'running',
    startedAt: local(2020, 11, 24, 14, 34, 25),
    progressPct: 57.17,
    repairedBytes: 326 * GiB,
    secondsToGo: 3 * 60 + 21,
    text:
      'resilver (draid1:4d:11c:1s-0) in progress since Tue Nov 24 14:34:25 2020\n' +
      '3.51T scanned at 13.4G/s, 1.59T issued 6.07G/s, 6.13T total\n' +
      '326G resilvered, 57.17% done, 00:03:21 to go',
  });
  const draid = pool.groups.data![0]!;
  assert.equal(draid.state, 'DEGRADED');
  assert.equal(draid.children.length, 11);
  const spare = draid.children[6]!;
  assert.equal(spare.name, 'spare-6');
  assert.equal(spare.kind, 'spare');
  assert.equal(spare.state, 'DEGRADED');
  assert.deepEqual(spare.children.map((v) => [v.name, v.kind, v.state, v.resilvering]), [
    ['sdg', 'disk', 'UNAVAIL', undefined],
    ['draid1-0-0', 'draid-spare', 'ONLINE', true],
  ]);
  assert.equal(draid.children.filter((v) => v.resilvering).length, 10);
  assert.deepEqual(pool.groups.spares, [
    { name: 'draid1-0-0', kind: 'draid-spare', state: 'INUSE', note: 'currently in use', children: [] },
  ]);
});

// ---- zpool status -j -------------------------------------------------------------------------

const STATUS_JSON = 'status-j-c-vendor-model-size-raidz-dedup-special-manpage.json';

test('status -j (man page): raidz1 data vdev, dedup mirror and special disk as groups; numbers as strings', () => {
  const pools = parseZpoolStatusJson(fixture(STATUS_JSON));
  assert.equal(pools.length, 1);
  const pool = pools[0]!;
  assert.equal(pool.name, 'tank');
  assert.equal(pool.subject, 'pool:tank');
  assert.equal(pool.state, 'ONLINE');
  assert.equal(pool.status, undefined, '"OK" is not a problem to report');
  assert.deepEqual(pool.counters, zeros);
  assert.deepEqual(pool.scan, { kind: 'none', state: 'none' }, 'the example has no scan_stats');
  assert.deepEqual(Object.keys(pool.groups).sort(), ['data', 'dedup', 'special']);
  const [raidz] = pool.groups.data!;
  assert.equal(raidz!.name, 'raidz1-0');
  assert.equal(raidz!.kind, 'raidz');
  assert.equal(raidz!.state, 'HEALTHY', 'JSON vdev states are kept as zpool wrote them');
  assert.deepEqual(raidz!.children.map((v) => v.name), [
    'ca1eb824-c371-491d-ac13-37637e35c683',
    '97cd98fb-8fb8-4ac4-bc84-bd8950a7ace7',
    'e9ddba5f-f948-4734-a472-cb8aa5f0ff65',
  ]);
  assert.ok(raidz!.children.every((v) => v.kind === 'disk' && v.state === 'HEALTHY'));
  assert.deepEqual(raidz!.children[0]!.counters, zeros);
  const [dedup] = pool.groups.dedup!;
  assert.equal(dedup!.name, 'mirror-2');
  assert.equal(dedup!.kind, 'mirror');
  assert.deepEqual(dedup!.children.map((v) => v.name), ['db017360-d8e9-4163-961b-144ca75293a3', '952c3baf-b08a-4a8c-b7fa-33a07af5fe6f']);
  assert.deepEqual(pool.groups.special!.map((v) => [v.name, v.kind, v.state]), [
    ['25d418f8-92bd-4327-b59f-7ef5d5f50d81', 'disk', 'HEALTHY'],
  ]);
  assert.equal(pool.errors?.dataErrors, 0, 'from error_count "0"');
});

test('status -j with integers (--json-int) gives the same result as with strings', () => {
  // Derived variant: the man-page fixture with its integer-valued strings turned into JSON numbers,
  // which is the documented difference of --json-int (shared/fixtures/README.md, "zpool -j").
  // Sizes like "62.6G" are left alone; only the counters and error_count matter to the parser.
  const doc = JSON.parse(fixture(STATUS_JSON));
  const toInts = (o: unknown): unknown =>
    Array.isArray(o)
      ? o.map(toInts)
      : typeof o === 'object' && o !== null
        ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : toInts(v)]))
        : o;
  const ints = JSON.stringify(toInts(doc));
  assert.match(ints, /"read_errors":0/);
  assert.deepEqual(parseZpoolStatusJson(ints), parseZpoolStatusJson(fixture(STATUS_JSON)));
});

// ---- zpool list ------------------------------------------------------------------------------

test('list (man page, no CKPOINT column): human sizes, % and x suffixes, FAULTED pool with "-" → absent', () => {
  const pools = parseZpoolList(fixture('list-text-faulted-pool-manpage.txt'));
  assert.deepEqual(pools, [
    {
      name: 'rpool',
      sizeBytes: Math.round(19.9 * GiB),
      allocBytes: Math.round(8.43 * GiB),
      freeBytes: Math.round(11.4 * GiB),
      fragmentationPct: 33,
      capacityPct: 42,
      dedupRatio: 1,
      health: 'ONLINE',
    },
    {
      name: 'tank',
      sizeBytes: Math.round(61.5 * GiB),
      allocBytes: Math.round(20.0 * GiB),
      freeBytes: Math.round(41.5 * GiB),
      fragmentationPct: 48,
      capacityPct: 32,
      dedupRatio: 1,
      health: 'ONLINE',
    },
    { name: 'zion', health: 'FAULTED' },
  ]);
});

test('list -p: two pools, exact bytes, FRAG/CAP without %, DEDUP without x', () => {
  assert.deepEqual(parseZpoolList(fixture('list-p-two-pools-degraded.txt')), [
    {
      name: 'store',
      sizeBytes: 9981503995904,
      allocBytes: 3046184919040,
      freeBytes: 6935319076864,
      fragmentationPct: 9,
      capacityPct: 30,
      dedupRatio: 1,
      health: 'DEGRADED',
    },
    {
      name: 'zroot',
      sizeBytes: 246960619520,
      allocBytes: 187805274112,
      freeBytes: 59155345408,
      fragmentationPct: 67,
      capacityPct: 76,
      dedupRatio: 1,
      health: 'ONLINE',
    },
  ]);
});

test('list -v -H -P -p: tab-separated, no header, vdev rows starting with a tab are skipped', () => {
  assert.deepEqual(parseZpoolList(fixture('list-H-P-p-v-mirror.txt')), [
    {
      name: 'pool_0',
      sizeBytes: 1992864825344,
      allocBytes: 779701190656,
      freeBytes: 1213163634688,
      fragmentationPct: 0,
      capacityPct: 39,
      dedupRatio: 1,
      health: 'ONLINE',
    },
  ]);
});

test('list -p -v -L: the NVMe mirror rows are skipped, only the pool is returned', () => {
  assert.deepEqual(parseZpoolList(fixture('list-p-v-L-mirror-nvme.txt')), [
    {
      name: 'rpool',
      sizeBytes: 3985729650688,
      allocBytes: 1647130456064,
      freeBytes: 2338599194624,
      fragmentationPct: 55,
      capacityPct: 41,
      dedupRatio: 1,
      health: 'ONLINE',
    },
  ]);
});

test('list -p -v -L: "logs" and "cache" rows (all "-") and their vdevs are skipped', () => {
  assert.deepEqual(parseZpoolList(fixture('list-p-v-L-degraded-log-mirror-cache-unavail.txt')), [
    {
      name: 'rpool',
      sizeBytes: 9981503995904,
      allocBytes: 3046188658688,
      freeBytes: 6935315337216,
      fragmentationPct: 9,
      capacityPct: 30,
      dedupRatio: 1,
      health: 'DEGRADED',
    },
  ]);
});

test('list -j (man page): {value, source} properties', () => {
  assert.deepEqual(parseZpoolListJson(fixture('list-j-manpage.json')), [
    {
      name: 'tank',
      sizeBytes: 111 * GiB,
      allocBytes: Math.round(30.8 * GiB),
      freeBytes: Math.round(80.2 * GiB),
      fragmentationPct: 0,
      capacityPct: 27,
      dedupRatio: 1,
      health: 'ONLINE',
    },
  ]);
});

// ---- not zpool's output ----------------------------------------------------------------------

const rejects = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ZpoolParseError, `a ZpoolParseError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });

test('status text parser: text without a "pool:" line is refused, quoting its first line', () => {
  rejects(() => parseZpoolStatusText('random text\nwith two lines'), /"pool:" line.*"random text"/);
  rejects(() => parseZpoolStatusText(''), /"pool:" line.*empty output/);
  rejects(
    () => parseZpoolStatusText(fixture('list-p-two-pools-degraded.txt')),
    /expected `zpool status` text output.*"NAME\s+SIZE\s+ALLOC/,
  );
  rejects(() => parseZpoolStatusText(fixture(STATUS_JSON)), /"pool:" line.*"\{"/);
});

test('status JSON parser: not JSON, or the JSON of `zpool list`, is refused', () => {
  rejects(() => parseZpoolStatusJson(fixture('status-new-pool-no-scan-line.txt')), /not valid JSON.*"pool: milton"/);
  rejects(() => parseZpoolStatusJson(fixture('list-j-manpage.json')), /output_version\.command is "zpool list"/);
  rejects(() => parseZpoolStatusJson('{"random": "json"}'), /"pools" object.*"\{"random": "json"\}"/);
  rejects(() => parseZpoolListJson(fixture(STATUS_JSON)), /output_version\.command is "zpool status"/);
});

test('list parser: a row with too few columns, or status output, is refused', () => {
  // Derived variant: the first row of list-H-P-p-v-mirror.txt truncated after its FREE column.
  const truncated = fixture('list-H-P-p-v-mirror.txt').split('\n')[0]!.split('\t').slice(0, 4).join('\t');
  assert.equal(truncated, 'pool_0\t1992864825344\t779701190656\t1213163634688');
  rejects(() => parseZpoolList(truncated), /at least \d+ columns.*got 4 in "pool_0\s+1992864825344.*the first line received was "pool_0/);
  rejects(
    () => parseZpoolList(fixture('status-degraded-mirror-unavail-corrupted-data.txt')),
    /expected a size in the SIZE column.*the first line received was "pool: dummy"/,
  );
  assert.deepEqual(parseZpoolList(''), [], 'no output, no pools');
});
