/**
 * The TrueNAS block as a person writes it, what `labwatch check` says about the NAS, and the five
 * tools a model may call: read-only, inputs checked against what the NAS lists, results capped.
 * Against the loopback NAS (real `ws` JSON-RPC over real HTTPS; it fails on any method READONLY_ADMIN may not call).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { truenasConfig } from '../../../src/connectors/truenas/config.ts';
import { truenas } from '../../../src/connectors/truenas/index.ts';
import { TrueNasReader } from '../../../src/connectors/truenas/read.ts';
import { truenasTools } from '../../../src/connectors/truenas/tools.ts';
import type { ConnectorContext } from '../../../src/connectors/types.ts';
import type { Logger } from '../../../src/telemetry/log.ts';
import { READ_ONLY, type ToolSpec } from '../../../src/tools/types.ts';
import { testCertificate } from '../../helpers/lab-api.ts';
import { derived, healthyTable, startTrueNas, TN_KEY, TN_USER, type TrueNasStandIn } from '../../helpers/truenas.ts';

describe('the truenas: block', () => {
  test('https://nas.lab is turned into the WebSocket API address; a pinned API version is kept', () => {
    assert.equal(truenasConfig.parse({ url: 'https://nas.lab', username: 'labwatch' }).url, 'wss://nas.lab/api/current');
    assert.equal(truenasConfig.parse({ url: 'wss://nas.lab/api/v25.04.2', username: 'labwatch' }).url, 'wss://nas.lab/api/v25.04.2');
    assert.equal(truenasConfig.parse({ url: 'wss://nas.lab/api/current', username: 'labwatch' }).timeout, '10s');
  });
  test('an unencrypted address and two ways of trust are refused, saying why', () => {
    assert.match(truenasConfig.safeParse({ url: 'ws://nas.lab/api/current', username: 'labwatch' }).error!.message, /would send the API key unencrypted/);
    assert.match(truenasConfig.safeParse({ url: 'https://nas.lab', username: 'labwatch', ca_file: '/x', tls_verify: false }).error!.message, /not several/);
  });
});

describe('check and tools against a NAS', () => {
  let nas: TrueNasStandIn;
  const warned: string[] = [];
  const ctx = (): ConnectorContext => ({
    block: truenasConfig.parse({ url: nas.url, username: TN_USER, tls_fingerprint: testCertificate().fingerprint, timeout: '2s' }),
    watch: {},
    secrets: { api_key_file: TN_KEY },
    host: 'labwatch',
    log: { warn: (_o: unknown, m: string) => void warned.push(m) } as unknown as Logger,
    rules: () => [],
    jitterMs: 0,
  });
  let tools: ToolSpec[];
  const tool = (name: string) => tools.find((t) => t.name === name)!;
  before(async () => {
    nas = await startTrueNas({ table: { ...healthyTable(), 'alert.list': derived('alert-list-degraded.json'), 'pool.query': derived('pool-query-degraded.json') } });
    tools = truenasTools(TrueNasReader.of(ctx().block, TN_KEY));
  });
  after(() => nas.close());

  test('check logs in and says the address, version and host', async () => {
    assert.match(await truenas.probes!(ctx())[0]!.probe(), /^TrueNAS wss:\/\/127\.0\.0\.1:\d+\/api\/current \(version 25\.04\.2\.4, host nas\)$/);
  });

  test('check names the methods the account may not call, and the role that allows them', async () => {
    nas.deny('app.query');
    nas.deny('replication.query');
    try {
      await assert.rejects(truenas.probes!(ctx())[0]!.probe(), /host nas\): labwatch may not call replication\.query, app\.query; put the user in a group whose privilege has the READONLY_ADMIN role/);
    } finally {
      nas.deny('app.query', false);
      nas.deny('replication.query', false);
    }
  });

  test('every tool is read-only and described for the model', () => {
    assert.deepEqual(tools.map((t) => t.name), ['truenas_pools', 'truenas_disks', 'truenas_alerts', 'truenas_tasks', 'truenas_interfaces']);
    for (const t of tools) {
      assert.deepEqual(t.annotations, READ_ONLY, t.name);
      assert.ok(t.description.length > 80, t.name);
    }
  });

  test('truenas_pools shows the faulted device with its disk and serial; an unknown pool is refused with the names there are', async () => {
    const r = await tool('truenas_pools').run({ pool: 'tank' }, AbortSignal.timeout(10_000));
    assert.equal(r.status, 'ok');
    assert.match(r.text, /^tank: DEGRADED, 42 % full; scrub finished on .* with 0 errors; One or more devices are faulted/);
    assert.match(r.text, /7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d \(sdb, serial ZGY8LQ2T\) FAULTED — 3 read, 118 write, 0 checksum errors/);
    const wrong = await tool('truenas_pools').run({ pool: 'tonk' }, AbortSignal.timeout(10_000));
    assert.deepEqual([wrong.status, wrong.text], ['error', 'no pool "tonk" on this NAS (pools: tank, boot-pool)']);
  });

  test('truenas_alerts lists what TrueNAS says, dismissed ones only when asked', async () => {
    const r = await tool('truenas_alerts').run({ dismissed: false }, AbortSignal.timeout(10_000));
    assert.equal(r.text.split('\n').length, 2);
    assert.match(r.text, /^CRITICAL VolumeStatus: Pool tank state is DEGRADED/);
    const all = await tool('truenas_alerts').run({ dismissed: true }, AbortSignal.timeout(10_000));
    assert.match(all.text, /INFO ScrubFinished \(dismissed\)/);
  });

  test('truenas_disks, truenas_tasks and truenas_interfaces answer from the NAS', async () => {
    const d = await tool('truenas_disks').run({ serial: 'ZGY8LQ2T' }, AbortSignal.timeout(10_000));
    assert.equal(d.text, 'sdb ST4000VN008-2DR166 serial ZGY8LQ2T, pool tank, 36 °C, last self-test Short offline: Completed without error');
    const t = await tool('truenas_tasks').run({ failed_only: true }, AbortSignal.timeout(10_000));
    assert.deepEqual([t.status, t.text], ['no_data', 'no failed task and every app is running']);
    const i = await tool('truenas_interfaces').run({}, AbortSignal.timeout(10_000));
    assert.match(i.text, /^vlan20 up, MTU 1500, VLAN 20 on enp1s0, 10\.20\.0\.20\/24$/m);
  });
});
