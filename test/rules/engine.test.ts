/** The rule engine against real Redis: history across calls, and disks joining their pool's incident. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import { poolObservations, serialFromById } from '../../src/connectors/zfs/collect.ts';
import { IncidentStore } from '../../src/incidents/store.ts';
import { RuleEngine } from '../../src/rules/engine.ts';
import type { Observation } from '../../src/rules/observation.ts';
import { loadRules } from '../../src/rules/load.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { readFixture } from '../helpers/fixtures.ts';

const prefix = `lwtest-engine-${randomBytes(3).toString('hex')}`;
const rules = loadRules(fileURLToPath(new URL('../../rules/', import.meta.url)));
let redis: Redis;
before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

test('serials are read from /dev/disk/by-id names as zpool prints them', () => {
  assert.equal(serialFromById('ata-ST8000VN004-2M2101_WSD49ZDC-part1'), 'WSD49ZDC');
  assert.equal(serialFromById('ata-Samsung_SSD_870_EVO_2TB_S6PNNM0TB15709L'), 'S6PNNM0TB15709L');
  assert.equal(serialFromById('/dev/disk/by-id/ata-TOSHIBA_HDWQ140_50SRK3F3FBJG-part1'), '50SRK3F3FBJG');
  assert.equal(serialFromById('wwn-0x5000c500af8ec287-part2'), undefined, 'a WWN is not a serial');
  assert.equal(serialFromById('sda'), undefined);
  assert.equal(serialFromById('mirror-0'), undefined);
});

test("a disk's SMART anomaly joins the incident of the pool its vdev belongs to", async () => {
  const engine = new RuleEngine(redis, `${prefix}-group`, rules, createLogger({ level: 'silent' }));
  const text = readFixture('zpool', 'status-faulted-too-many-errors-pool-still-online.txt');
  const [pool] = parseZpoolStatusText(text);
  const zfsObs = poolObservations({ health: pool! }, 'nas', new Date('2026-11-01T00:00:00Z'));
  const leaf = zfsObs.find((o) => o.kind === 'vdev' && o.aliases?.length)!;
  const serial = leaf.aliases![0]!;
  const zfs = await engine.observe(zfsObs, { now: new Date('2026-11-01T00:00:00Z') });
  const poolAnomaly = zfs.anomalies.find((a) => a.subject === leaf.subject)!;
  assert.ok(poolAnomaly, 'the faulted device raised an anomaly');

  const drive = { source: 'smart', kind: 'drive', subject: serial, host: 'nas', at: '2026-11-01T00:05:00Z', values: { state: 'ok', drive_class: 'hdd', pending_sectors: 8 } };
  const smart = await engine.observe([drive], { now: new Date('2026-11-01T00:05:00Z') });
  const diskAnomaly = smart.anomalies.find((a) => a.rule === 'smart-pending-sectors')!;
  assert.equal(diskAnomaly.groupKey, poolAnomaly.groupKey, `${serial} is grouped with ${pool!.subject}`);

  const store = new IncidentStore(redis, `${prefix}-inc`, 3600);
  const a = await store.ingest([poolAnomaly]);
  const b = await store.ingest([diskAnomaly]);
  assert.equal(b!.incidentId, a!.incidentId, 'one incident, not two');
  assert.match(b!.incident!.changes.join(), /smart-pending-sectors on disk:/);
});

test('history survives between calls: a rate needs earlier observations', async () => {
  const engine = new RuleEngine(redis, `${prefix}-hist`, rules, createLogger({ level: 'silent' }));
  const obs = (day: number, n: number) => ({ source: 'smart', kind: 'drive', subject: 'disk:H1', host: 'nas', at: new Date(Date.UTC(2026, 10, 1 + day)).toISOString(), values: { state: 'ok', drive_class: 'hdd', reallocated_sectors: n } });
  await engine.observe([obs(0, 0)], { now: new Date(Date.UTC(2026, 10, 1)) });
  await engine.observe([obs(1, 2)], { now: new Date(Date.UTC(2026, 10, 2)) });
  const r = await engine.observe([obs(2, 6)], { now: new Date(Date.UTC(2026, 10, 3)) });
  assert.match(r.anomalies[0]!.annotations.estimate!, /grows by 3 sectors\/day; at this rate it reaches 16 sectors in about 3\.3 days/);
  assert.equal((await engine.history('disk:H1')).length, 3);
});

/** One drive on pve2 as smartctl (`smart`) or an API (`reading: smart`) reports it. */
function driveOn(subject: string, source: string, values: Record<string, unknown>, at: Date): Observation {
  return {
    source,
    ...(source === 'smart' ? {} : { reading: 'smart' }),
    kind: 'drive',
    subject,
    host: 'pve2',
    at: at.toISOString(),
    values: { state: 'ok', device: '/dev/sdb', type: 'sat', drive_class: 'hdd', ...values },
  };
}

test('a reading through an API: the other source\'s rules apply, a drive is one anomaly on both paths, each path keeps its own state, and two nodes\' rpools are two anomalies', async () => {
  const engine = new RuleEngine(redis, `${prefix}-reading`, rules, createLogger({ level: 'silent' }));
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const at = (m: number) => new Date(t0 + m * 60_000);
  const drive = (source: string, values: Record<string, unknown>, m: number) => driveOn('disk:ZC1A2B3C', source, values, at(m));
  const local = await engine.observe([drive('smart', { reallocated_sectors: 12 }, 0)], { now: at(0) });
  const api = await engine.observe([drive('proxmox', { reallocated_sectors: 12 }, 1)], { now: at(1) });
  const fp = (r: typeof local, rule: string) => r.anomalies.find((a) => a.rule === rule && a.status === 'firing')?.fingerprint;
  assert.ok(fp(api, 'smart-reallocated-sectors'), 'the SMART rule applies to the API reading');
  assert.equal(fp(api, 'smart-reallocated-sectors'), fp(local, 'smart-reallocated-sectors'), 'one anomaly whichever path saw it');
  // the API path lacks a value the local path has: it does not resolve what the local path raised
  const local2 = await engine.observe([drive('smart', { reallocated_sectors: 12, selftest_count: 3, selftest_failed: 1, selftest_latest_passed: false }, 2)], { now: at(2) });
  const selftest = local2.anomalies.find((a) => a.status === 'firing' && a.rule === 'smart-self-test-failed');
  assert.ok(selftest, local2.anomalies.map((a) => a.rule).join());
  const api2 = await engine.observe([drive('proxmox', { reallocated_sectors: 12 }, 3)], { now: at(3) });
  assert.ok(!api2.anomalies.some((a) => a.rule === selftest.rule && a.status === 'resolved'));

  const pool = (node: string) => ({ source: 'proxmox', reading: 'zfs', kind: 'pool', subject: 'pool:rpool', host: node, at: at(4).toISOString(), values: { name: 'rpool', state: 'DEGRADED', unhealthy_devices: 'sdb REMOVED', status: '', action: '', msgid: '', suspended: false } });
  const two = await engine.observe([pool('pve1'), pool('pve3')], { now: at(4) });
  const degraded = two.anomalies.filter((a) => a.rule === 'zfs-pool-not-online');
  assert.equal(degraded.length, 2);
  assert.notEqual(degraded[0]!.fingerprint, degraded[1]!.fingerprint, "pve1's rpool and pve3's are two problems");
});

test("a drive's anomaly resolves only when no path still raises it; two nodes' interfaces keep their own history", async () => {
  const engine = new RuleEngine(redis, `${prefix}-paths2`, rules, createLogger({ level: 'silent' }));
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const at = (m: number) => new Date(t0 + m * 60_000);
  const drive = (source: string, values: Record<string, unknown>, m: number) => driveOn('disk:ZC9Y8X7W', source, values, at(m));
  await engine.observe([drive('smart', { reallocated_sectors: 12 }, 0)], { now: at(0) });
  await engine.observe([drive('proxmox', { reallocated_sectors: 12 }, 1)], { now: at(1) });
  // the API poll could not read SMART this time: smartctl still sees the sectors, so nothing resolves
  const gap = await engine.observe([drive('proxmox', {}, 2)], { now: at(2) });
  assert.deepEqual(gap.anomalies.filter((a) => a.rule === 'smart-reallocated-sectors'), []);
  // the drive was replaced: once smartctl agrees, the anomaly resolves
  const gone = await engine.observe([drive('smart', { reallocated_sectors: 0 }, 3)], { now: at(3) });
  assert.deepEqual(gone.anomalies.filter((a) => a.rule === 'smart-reallocated-sectors').map((a) => a.status), ['resolved']);

  const vmbr0 = (host: string, errors: number, m: number) => ({
    source: 'proxmox', reading: 'host', kind: 'interface', subject: 'if:vmbr0', host, at: at(m).toISOString(),
    values: { name: 'vmbr0', mtu: 1500, rx_errors: errors, tx_errors: 0, errors_total: errors },
  });
  // pve1's counter sits at 5000, pve2's at 0: neither grows, so nothing fires on either
  for (let m = 10; m < 16; m += 2) {
    const r = await engine.observe([vmbr0('pve2', 0, m), vmbr0('pve1', 5000, m + 1)], { now: at(m + 1) });
    assert.deepEqual(r.anomalies, [], `poll at +${m} min`);
  }
});

test('a subject unheard of for a week leaves the index of observed subjects, dashboard open or not', async () => {
  const p = `${prefix}-seen`;
  const now = new Date();
  const weekAgo = new Date(now.getTime() - 8 * 86_400_000);
  const iface = (at: Date, name: string): Observation => ({ source: 'host', kind: 'interface', subject: `if:${name}`, host: 'pve1', at: at.toISOString(), values: { state: 'up', errors_total: 0 } });
  // One process saw veth101i0 a week ago (it pruned then, finding nothing old).
  await new RuleEngine(redis, p, { rules: [], files: [] }, createLogger({ level: 'silent' })).observe([iface(weekAgo, 'veth101i0')], { now: weekAgo });
  assert.equal(await redis.hlen(`${p}:obs:seen`), 1);
  // Another one, a week later, sees only eth0: the veth is dropped as it writes.
  await new RuleEngine(redis, p, { rules: [], files: [] }, createLogger({ level: 'silent' })).observe([iface(now, 'eth0')], { now });
  assert.deepEqual(await redis.hkeys(`${p}:obs:seen`), ['if:eth0']);
});
