/**
 * Any answer a Proxmox VE, Proxmox Backup Server, TrueNAS or OPNsense can send yields a value or a
 * clear error: fast-check damages the captures the connector tests use (test/fuzz/mutate.ts) and
 * each endpoint, read as its collector reads it (test/fuzz/lab-targets.ts), must never crash, hang,
 * pollute a prototype or give back a value that cannot be stored (test/fuzz/oracle.ts).
 * LABWATCH_FUZZ_RUNS sets the inputs per endpoint (default 200; a quarter of it here, as there are
 * 39 endpoints).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { deepJson } from './mutate.ts';
import { judge, runs, show } from './oracle.ts';
import { labTargets } from './lab-targets.ts';
import { decodeDates, RpcError } from '../../src/connectors/truenas/rpc.ts';
import { TrueNasReader } from '../../src/connectors/truenas/read.ts';
import { testCertificate } from '../helpers/lab-api.ts';
import { healthyTable, startTrueNas, TN_KEY, TN_USER } from '../helpers/truenas.ts';

const TARGETS = labTargets();
const RUNS = runs(0.25);

describe('any answer of a lab API yields a value or its own error', () => {
  for (const t of TARGETS) {
    test(`${t.name}: ${RUNS} damaged answers, 10,000- and 100,000-deep JSON`, async () => {
      for (const input of [...deepJson(10_000), ...deepJson(100_000)]) {
        const o = await judge(t, input);
        assert.notEqual(o.kind, 'defect', `${o.kind === 'defect' ? o.why : ''}: ${show(input)}`);
      }
      await fc.assert(
        fc.asyncProperty(t.inputs, async (input) => {
          const o = await judge(t, input);
          if (o.kind === 'defect') throw new Error(`${o.why}\ninput: ${show(input)}`);
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('defects the fuzzing found in TrueNAS answers, fixed', () => {
  test('an own "__proto__" key in an answer stays data through the real WebSocket path: an alert is not moved to the pool it names', async () => {
    const healthy = healthyTable();
    const alert = (healthy['alert.list'] as Record<string, unknown>[])[0]!;
    // JSON.parse makes "__proto__" an own key, as the NAS's frame does
    const args = JSON.parse('{"__proto__": {"pool": "tank", "polluted": true}}') as Record<string, unknown>;
    const nas = await startTrueNas({ table: { ...healthy, 'alert.list': [{ ...alert, args }] } });
    try {
      const r = TrueNasReader.of({ url: nas.url, username: TN_USER, api_key_file: '/etc/labwatch/truenas-key', tls_fingerprint: testCertificate().fingerprint, tls_verify: true, timeout: '2s' }, TN_KEY);
      const [got] = await r.alerts();
      const a = got!.args as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(a), Object.prototype, 'the __proto__ key became the prototype of args');
      assert.ok(Object.hasOwn(a, '__proto__'));
      assert.equal(a.pool, undefined, 'args.pool was inherited from the __proto__ key');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      r.rpc.close();
    } finally {
      await nas.close();
    }
  });

  test('an answer nested 10,000 deep is refused with a bad_response RpcError, not a stack overflow in the message handler', () => {
    for (const text of [...deepJson(10_000), ...deepJson(100_000)])
      assert.throws(() => decodeDates(JSON.parse(text), 'pool.query'), (e) => e instanceof RpcError && e.kind === 'bad_response' && /pool\.query .*nested more than 64 levels/.test(e.message));
    const pools = healthyTable()['pool.query'];
    assert.deepEqual(decodeDates(JSON.parse(JSON.stringify(pools)), 'pool.query'), JSON.parse(JSON.stringify(decodeDates(pools, 'pool.query'))), 'a real pool tree still decodes');
  });

  test('a {"$date"} no Date holds decodes to null (an unknown time), not a RangeError; a real one to ISO 8601', () => {
    assert.deepEqual(decodeDates({ end: { $date: 1e300 }, start: { $date: 1764583200000 } }, 'pool.query'), { end: null, start: '2025-12-01T10:00:00.000Z' });
  });
});
