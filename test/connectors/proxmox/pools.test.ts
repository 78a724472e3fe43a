/**
 * Proxmox VE's ZFS answers → the same pool and device observations the local zpool collector
 * makes. The one real PVE pool capture is healthy; every other pool (degraded, faulted,
 * resilvering, with cache and spares) is a real `zpool status` capture turned into PVE's answer by
 * pveZfsDetailFromStatus, which follows ZFS.pm's parser line by line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { poolFromPve, pveZfsDetail, pveZfsListRow } from '../../../src/connectors/proxmox/pools.ts';
import { poolObservations, serialFromById } from '../../../src/connectors/zfs/collect.ts';
import { parseZpoolList, parseZpoolStatusText } from '../../../src/connectors/zfs/parse.ts';
import type { Observation } from '../../../src/connectors/types.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { readFixture, sharedFixture } from '../../helpers/fixtures.ts';
import { pveZfsDetailFromStatus, pveZfsListFromZpoolList } from './pve-zfs-detail.ts';

const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;
const zpool = (name: string) => readFixture('zpool', name);

function firing(obs: Observation[]): string[] {
  return obs
    .flatMap((o) => {
      const ctx = contextFor(o, undefined, [], new Date(o.at));
      return rulesFor(RULES, o).flatMap((r) => evaluateRule(r, o, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? []);
    })
    .map((a) => `${a.rule} ${a.severity} ${a.subject}`)
    .sort();
}

/** ZFS.pm asks for one pool at a time (`zpool status -P <name>`): a capture of several is split at its `pool:` lines. */
function perPool(text: string): string[] {
  return text
    .split(/\n(?= {0,6}pool: )/)
    .filter((t) => /^ {0,6}pool: /m.test(t))
    .map((t) => (t.endsWith('\n') ? t : `${t}\n`));
}

test('the real PVE capture: an ONLINE single-NVMe pool, its disk aliased to the SMART subject, scrubbed with 0 errors', () => {
  const body = JSON.parse(readFixture('proxmox', 'disks-zfs-detail-online-upgrade-available.json')) as { data: unknown };
  const reading = poolFromPve(body.data);
  const scrubEnd = Date.parse(reading.health.scan.endedAt!);
  const obs = poolObservations(reading, 'pve', new Date(scrubEnd + 3 * 86_400_000));
  const [pool, ...vdevs] = obs;
  assert.equal(pool!.subject, 'pool:samsung-970-01');
  assert.deepEqual(
    { state: pool!.values.state, scan_kind: pool!.values.scan_kind, scan_state: pool!.values.scan_state, last_scrub_errors: pool!.values.last_scrub_errors, scrub_age_days: pool!.values.scrub_age_days, data_errors: pool!.values.data_errors, msgid: pool!.values.msgid },
    { state: 'ONLINE', scan_kind: 'scrub', scan_state: 'finished', last_scrub_errors: 0, scrub_age_days: 3, data_errors: 0, msgid: '' },
  );
  assert.match(String(pool!.values.action), /zpool upgrade/);
  const disk = '/dev/disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_2TB_serial#Z-part1';
  assert.equal(vdevs.length, 1);
  assert.equal(vdevs[0]!.subject, `vdev:samsung-970-01/${disk}`);
  assert.deepEqual(vdevs[0]!.aliases, [`disk:${serialFromById(disk)}`]);
  assert.deepEqual(vdevs[0]!.aliases, ['disk:serial#Z']);
  assert.deepEqual(
    { class: vdevs[0]!.values.class, device_kind: vdevs[0]!.values.device_kind, state: vdevs[0]!.values.state, no_redundancy: vdevs[0]!.values.no_redundancy, checksum_errors: vdevs[0]!.values.checksum_errors },
    { class: 'data', device_kind: 'disk', state: 'ONLINE', no_redundancy: true, checksum_errors: 0 },
  );
  // the feature-upgrade notice carries no message id: nothing to raise
  assert.deepEqual(firing(obs), []);
});

test('a degraded mirror relayed by PVE: the UNAVAIL disk by GUID, its 100980 checksum errors and "was" path, and the rules', () => {
  const reading = poolFromPve(pveZfsDetailFromStatus(zpool('status-degraded-unavail-was-path-cksum-errors.txt')).data);
  assert.equal(reading.health.state, 'DEGRADED');
  assert.equal(reading.health.msgid, 'ZFS-8000-4J');
  assert.deepEqual(reading.health.groups.data!.map((v) => [v.name, v.kind, v.state, v.children.length]), [['mirror-0', 'mirror', 'DEGRADED', 3]]);
  const gone = reading.health.groups.data![0]!.children[0]!;
  assert.deepEqual(
    { name: gone.name, state: gone.state, counters: gone.counters, wasPath: gone.wasPath },
    { name: '12345678901234567890', state: 'UNAVAIL', counters: { read: 0, write: 0, checksum: 100980 }, wasPath: '/dev/disk/by-id/ata-ST8000DM004-xxxxxx_redacted-part1' },
  );
  const obs = poolObservations(reading, 'pve', new Date(2024, 10, 4));
  assert.deepEqual(obs.find((o) => o.values.name === gone.name)!.aliases, ['disk:redacted']);
  assert.deepEqual(firing(obs), [
    'zfs-device-errors warning vdev:mypool/12345678901234567890',
    'zfs-device-not-online critical vdev:mypool/12345678901234567890',
    'zfs-pool-not-online critical pool:mypool',
  ]);
});

test('counters PVE got from zpool\'s abbreviations ("1.37K" +0 → 1.37) read as zpool meant them (1403)', () => {
  const detail = pveZfsDetail.parse(pveZfsDetailFromStatus(zpool('status-illumos-degraded-permanent-errors-file-list.txt')).data);
  const vdev3 = detail.children[0]!.children!.find((c) => c.name === '/tmp/tank/vdev3')!;
  assert.equal(vdev3.cksum, 1.37);
  assert.equal(vdev3.msg, 'too many errors');
  const reading = poolFromPve(detail);
  const [pool] = poolObservations(reading, 'pve');
  assert.equal(reading.health.groups.data![2]!.counters!.checksum, 1403);
  assert.deepEqual(reading.health.errors!.permanentFiles, ['/tank/file']);
  assert.equal(pool!.values.data_errors, 1);
  assert.equal(pool!.values.last_scrub_errors, 686);
});

test('every real zpool status capture, relayed by PVE, gives the observations the local collector gives', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const files = readdirSync(sharedFixture('zpool')).filter((f) => /^status-.*\.txt$/.test(f));
  assert.ok(files.length >= 15);
  let pools = 0;
  for (const file of files) {
    for (const text of perPool(zpool(file))) {
      const local = poolObservations({ health: parseZpoolStatusText(text)[0]! }, 'h', now);
      const relayed = poolObservations(poolFromPve(pveZfsDetailFromStatus(text).data), 'h', now);
      assert.deepEqual(relayed.map(lossless), local.map(lossless), file);
      pools += 1;
    }
  }
  assert.ok(pools >= 19); // the two- and three-pool captures count per pool
});

/**
 * What PVE's relay cannot carry, and nothing else: it joins a running scan's lines with spaces
 * (scan_text and the summary differ in whitespace only); it reads an INUSE spare's "currently in
 * use" as three counters (the note is lost); and of several `errors:` lines only the last is kept
 * (PVE runs zpool as root, so the non-root "permission denied" line never occurs there).
 */
function lossless(o: Observation): Observation {
  const values = { ...o.values };
  if (typeof values.scan_text === 'string') values.scan_text = values.scan_text.replace(/\s+/g, ' ');
  if (values.state === 'INUSE') delete values.note;
  delete values.errors_unavailable;
  return { ...o, values, ...(o.summary ? { summary: o.summary.replace(/\s+/g, ' ') } : {}) };
}

test('capacity and fragmentation from the pool list, as `zpool list` shows them; a faulted pool\'s zeros stay unknown', () => {
  const capture = zpool('list-p-two-pools-degraded.txt');
  const rows = pveZfsListFromZpoolList(capture);
  assert.deepEqual(pveZfsListRow.parse(rows[0]), { name: 'store', size: 9981503995904, alloc: 3046184919040, free: 6935319076864, frag: 9, dedup: 1, health: 'DEGRADED' });
  const detail = pveZfsDetailFromStatus(zpool('status-degraded-removed-device.txt')).data;
  const { usage } = poolFromPve({ ...detail, name: 'store' }, rows[0]);
  const [local] = parseZpoolList(capture);
  assert.deepEqual(usage, { ...local, health: 'DEGRADED' });
  assert.deepEqual(
    { capacityPct: usage!.capacityPct, fragmentationPct: usage!.fragmentationPct, sizeBytes: usage!.sizeBytes, allocBytes: usage!.allocBytes, freeBytes: usage!.freeBytes },
    { capacityPct: 30, fragmentationPct: 9, sizeBytes: 9981503995904, allocBytes: 3046184919040, freeBytes: 6935319076864 },
  );

  const faulted = pveZfsListFromZpoolList(zpool('list-text-faulted-pool-manpage.txt')).find((r) => r.name === 'zion')!;
  assert.equal(faulted.size, 0); // "-" +0
  const u = poolFromPve({ name: 'zion', state: 'FAULTED', children: [] }, faulted).usage!;
  assert.deepEqual(u, { name: 'zion', health: 'FAULTED' });
});

test('an answer that is not a PVE pool detail is refused with what is wrong', () => {
  assert.throws(() => poolFromPve({ state: 'ONLINE' }), /proxmox: GET \/nodes\/\{node\}\/disks\/zfs\/\{name\} is not shaped as PVE's pve-storage sends it \(name: missing/);
  assert.throws(() => poolFromPve({ name: 'tank', children: [{ name: 'tank', read: [] }] }), /children\[0\]\.read/);
});
