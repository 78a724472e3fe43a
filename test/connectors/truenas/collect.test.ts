/**
 * The TrueNAS collector against the loopback NAS (a real `ws` JSON-RPC server over real HTTPS):
 * what a healthy NAS, a degraded pool, a wrong key, a wrong certificate, a dropped connection and
 * a stalled call look like to the person reading labwatch's report, and how many calls a poll costs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { truenasCollector } from '../../../src/connectors/truenas/collect.ts';
import type { TruenasConfig } from '../../../src/connectors/truenas/config.ts';
import { TrueNasReader } from '../../../src/connectors/truenas/read.ts';
import type { Observation } from '../../../src/connectors/types.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { sharedFixture } from '../../helpers/fixtures.ts';
import { testCertificate } from '../../helpers/lab-api.ts';
import { daysAgo, derived, healthyTable, startTrueNas, TN_KEY, TN_USER, type TrueNasStandIn } from '../../helpers/truenas.ts';

const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;

function reader(nas: TrueNasStandIn, over: Partial<TruenasConfig> = {}, key = TN_KEY): TrueNasReader {
  return TrueNasReader.of({ url: nas.url, username: TN_USER, api_key_file: '/etc/labwatch/truenas-key', tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '1s', ...over }, key);
}

/** What the rules raise for one poll: "rule severity subject → incident group". */
function firing(obs: Observation[]): string[] {
  return obs
    .flatMap((o) => {
      const ctx = contextFor(o, undefined, [], new Date(o.at));
      return rulesFor(RULES, o).flatMap((r) => evaluateRule(r, o, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? []);
    })
    .map((a) => `${a.rule} ${a.severity} ${a.subject} → ${a.groupKey}`)
    .sort();
}
const collectorOf = (o: Observation[]) => o.find((x) => x.kind === 'collector')!;

const POLL = ['system.info', 'pool.query', 'disk.query', 'disk.temperatures', 'smart.test.results', 'alert.list', 'replication.query', 'cloudsync.query', 'pool.snapshottask.query', 'app.query', 'interface.query'];

describe('reading a TrueNAS SCALE NAS', () => {
  let nas: TrueNasStandIn;
  before(async () => {
    nas = await startTrueNas();
  });
  after(() => nas.close());

  test('a healthy NAS raises nothing, over one connection: 13 calls on the first poll, 10 after', async () => {
    nas.take();
    const collector = truenasCollector({ reader: reader(nas) });
    const obs = await collector.collect(AbortSignal.timeout(20_000));
    assert.deepEqual(firing(obs), []);
    assert.equal(collectorOf(obs).values.ok, true, String(collectorOf(obs).values.error));
    assert.equal(collectorOf(obs).subject, 'collector:truenas/nas');
    assert.deepEqual(nas.take(), ['auth.login_ex', 'system.info', 'core.get_methods', ...POLL.slice(1)]);
    const kinds = new Set(obs.map((o) => `${o.kind}:${o.reading ?? ''}`));
    for (const k of ['pool:zfs', 'vdev:zfs', 'drive:smart', 'interface:host', 'task:', 'app:']) assert.ok(kinds.has(k), k);
    const sda = obs.find((o) => o.subject === 'disk:WSD49ZDC')!;
    assert.equal(sda.values.temperature_c, 34);
    assert.equal(sda.values.selftest_latest_passed, true);
    assert.equal(sda.group, 'pool:tank');
    const vlan = obs.find((o) => o.subject === 'if:vlan20')!;
    assert.deepEqual([vlan.values.vlan_id, vlan.values.parent, vlan.values.mtu, vlan.values.state, 'rx_errors' in vlan.values], [20, 'enp1s0', 1500, 'up', false]);

    const before = nas.connections;
    await collector.collect(AbortSignal.timeout(20_000));
    // self-tests are read once an hour; the connection and the method list are kept
    assert.deepEqual(nas.take(), POLL.filter((m) => m !== 'smart.test.results'));
    assert.equal(nas.connections, before);
  });

  test('a DEGRADED pool fires the zfs rules on pool:tank with host nas, and the failing disk\'s TrueNAS alert joins its group', async () => {
    const t = healthyTable();
    const pools = derived('pool-query-degraded.json') as { scan: Record<string, unknown> }[];
    for (const p of pools) Object.assign(p.scan, { start_time: daysAgo(3.1), end_time: daysAgo(3) });
    const sick = await startTrueNas({ table: { ...t, 'pool.query': pools, 'alert.list': derived('alert-list-degraded.json') } });
    try {
      const obs = await truenasCollector({ reader: reader(sick) }).collect(AbortSignal.timeout(20_000));
      // one incident (watch:nas|pool:tank): the pool, its faulted device, and TrueNAS's alerts about both
      assert.deepEqual(firing(obs), [
        'truenas-alert critical truenas-alert:SMART/sdb → watch:nas|pool:tank',
        'truenas-alert critical truenas-alert:VolumeStatus/tank → watch:nas|pool:tank',
        'zfs-device-errors warning vdev:tank/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d → watch:nas|pool:tank',
        'zfs-device-not-online critical vdev:tank/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d → watch:nas|pool:tank',
        'zfs-pool-not-online critical pool:tank → watch:nas|pool:tank',
      ]);
      const pool = obs.find((o) => o.subject === 'pool:tank')!;
      assert.deepEqual([pool.host, pool.source, pool.reading, pool.values.state], ['nas', 'truenas', 'zfs', 'DEGRADED']);
      const vdev = obs.find((o) => o.subject.startsWith('vdev:tank/7a1b2c3d'))!;
      assert.deepEqual(vdev.aliases, ['disk:ZGY8LQ2T']);
      assert.equal(vdev.values.write_errors, 118);
      const smartAlert = obs.find((o) => o.subject === 'truenas-alert:SMART/sdb')!;
      assert.equal(smartAlert.group, 'pool:tank', 'the disk alert is in the pool\'s incident');
      assert.deepEqual(smartAlert.aliases, ['disk:ZGY8LQ2T']);
      assert.equal(obs.find((o) => o.subject === 'truenas-alert:VolumeStatus/tank')!.group, 'pool:tank');
      assert.ok(!obs.some((o) => o.subject.startsWith('truenas-alert:ScrubFinished')), 'dismissed alerts are skipped');
    } finally {
      await sick.close();
    }
  });

  test('an alert that leaves the list is sent once as gone, which resolves it', async () => {
    const list = derived('alert-list-degraded.json') as unknown[];
    const sick = await startTrueNas({ table: { ...healthyTable(), 'alert.list': list } });
    try {
      const collector = truenasCollector({ reader: reader(sick) });
      await collector.collect(AbortSignal.timeout(20_000));
      sick.answer('alert.list', list.slice(1));
      const second = await collector.collect(AbortSignal.timeout(20_000));
      const gone = second.filter((o) => o.kind === 'alert' && o.gone);
      assert.deepEqual(gone.map((o) => o.subject), ['truenas-alert:VolumeStatus/tank']);
      const third = await collector.collect(AbortSignal.timeout(20_000));
      assert.equal(third.filter((o) => o.gone).length, 0, 'said once');
    } finally {
      await sick.close();
    }
  });

  test('a refused login names the user and where the key comes from, and never the key', async () => {
    await assert.rejects(truenasCollector({ reader: reader(nas, {}, 'wrong-key-0000') }).collect(AbortSignal.timeout(20_000)), (e: Error) => {
      assert.match(e.message, /refused the API key for user labwatch \(AUTH_ERR\)/);
      assert.match(e.message, /truenas\.api_key_file \/etc\/labwatch\/truenas-key/);
      assert.ok(!e.message.includes('wrong-key-0000'));
      return true;
    });
    const { api_key_file: _, ...noFile } = { url: nas.url, username: TN_USER, api_key_file: 'x', tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '1s' };
    await assert.rejects(TrueNasReader.of(noFile, 'wrong-key-0000').info(), /LABWATCH_TRUENAS_API_KEY/);
  });

  test('after a refused login the NAS is not asked again before the backoff has passed', async () => {
    const r = reader(nas, {}, 'wrong-key-0000');
    await assert.rejects(r.info(), /AUTH_ERR/);
    nas.take();
    await assert.rejects(r.info(), /AUTH_ERR.*\(next attempt in 1 s\)$/);
    assert.deepEqual(nas.take(), [], 'no second login within the backoff');
  });

  test('a certificate that is not the pinned one is refused by fingerprint before the key is sent', async () => {
    nas.take();
    const pinned = 'AA:'.repeat(31) + 'AA';
    await assert.rejects(reader(nas, { tls_fingerprint: pinned }).info(), (e: Error) => {
      assert.match(e.message, new RegExp(`SHA-256 fingerprint ${testCertificate().fingerprint}, not the pinned truenas.tls_fingerprint ${pinned}`));
      return true;
    });
    assert.deepEqual(nas.take(), [], 'nothing was sent, the key least of all');
  });

  test('a connection dropped mid-poll is one clear collector error; the next poll reconnects', async () => {
    const collector = truenasCollector({ reader: reader(nas) });
    await collector.collect(AbortSignal.timeout(20_000));
    const before = nas.connections;
    nas.take();
    nas.dropOn('alert.list');
    const obs = await collector.collect(AbortSignal.timeout(20_000));
    const c = collectorOf(obs);
    assert.equal(c.values.ok, false);
    assert.match(String(c.values.error), /^alerts: the connection to TrueNAS wss:\/\/127\.0\.0\.1:\d+\/api\/current dropped during alert\.list \(WebSocket close 1006\); the next poll reconnects$/);
    assert.ok(obs.some((o) => o.subject === 'pool:tank'), 'what was read before the drop is kept');
    assert.deepEqual(nas.take(), POLL.filter((m) => m !== 'smart.test.results').slice(0, 5), 'nothing after the drop');
    const next = await collector.collect(AbortSignal.timeout(20_000));
    assert.equal(collectorOf(next).values.ok, true, String(collectorOf(next).values.error));
    assert.equal(nas.connections, before + 1);
    assert.deepEqual(nas.take().slice(0, 3), ['auth.login_ex', 'system.info', 'core.get_methods'], 'a new connection logs in and reads the method list again');
  });

  test('a stalled call times out after truenas.timeout and the rest of the poll is skipped', async () => {
    const collector = truenasCollector({ reader: reader(nas) });
    await collector.collect(AbortSignal.timeout(20_000));
    nas.stall('app.query', true);
    try {
      const started = Date.now();
      const obs = await collector.collect(AbortSignal.timeout(20_000));
      assert.ok(Date.now() - started < 4_000);
      assert.equal(collectorOf(obs).values.error, 'apps: TrueNAS app.query did not answer within 1 s; raise truenas.timeout if the NAS is busy (a scrub or resilver slows it)');
      assert.ok(!obs.some((o) => o.kind === 'interface'));
    } finally {
      nas.stall('app.query', false);
    }
  });

  test('a release without SMART in its API (25.10) is read without smart.test.results', async () => {
    const newer = await startTrueNas();
    newer.remove('smart.test.results');
    try {
      const obs = await truenasCollector({ reader: reader(newer) }).collect(AbortSignal.timeout(20_000));
      assert.ok(!newer.calls.includes('smart.test.results'));
      assert.equal(collectorOf(obs).values.ok, true);
      assert.equal(obs.find((o) => o.subject === 'disk:WSD49ZDC')!.values.temperature_c, 34);
    } finally {
      await newer.close();
    }
  });

  test('a collection_update pushed by the NAS does not disturb the calls in flight', async () => {
    const r = reader(nas);
    await r.info();
    nas.push(JSON.parse(readFileSync(sharedFixture('truenas', 'event-core-get-jobs-changed-system-debug.params.json'), 'utf8')));
    assert.equal((await r.pools()).length, 2);
  });
});
