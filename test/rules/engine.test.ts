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
