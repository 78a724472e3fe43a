/** The opnsense connector as labwatch builds it from config: `check`'s probe, login failures, readiness and schedule. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opnsense } from '../../../src/connectors/opnsense/index.ts';
import type { ConnectorContext } from '../../../src/connectors/types.ts';
import { OPN_KEY, OPN_SECRET, startOpnsense, type OpnsenseStandIn } from '../../helpers/opnsense.ts';

const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as never;

describe('the opnsense connector', () => {
  let fw: OpnsenseStandIn;
  before(async () => {
    // a wrong secret must be answered 401, as OPNsense does, without failing the stand-in
    fw = await startOpnsense({ expectUnauthorized: true });
  });
  after(() => fw.close());

  const ctx = (secrets: Record<string, string> = { key_file: OPN_KEY, secret_file: OPN_SECRET }, extra: Record<string, unknown> = {}): ConnectorContext => ({
    block: opnsense.config!.parse(fw.block({ key_file: '/etc/labwatch/opnsense-key', secret_file: '/etc/labwatch/opnsense-secret', ...extra })),
    watch: opnsense.watch!.parse(undefined),
    secrets,
    host: 'labwatch-host',
    log: quiet,
    rules: () => [],
    jitterMs: 0,
  });

  test('check logs in and names the firewall, its version, interfaces and gateways', async () => {
    const [probe] = opnsense.probes!(ctx());
    assert.equal(await probe!.probe(), `OPNsense ${fw.api.url} (version 25.7.8-amd64); 6 interfaces, 2 gateways`);
    assert.ok(fw.api.calls.every((c) => c.startsWith('GET ') && !c.includes('firmware')), 'never core/firmware/status');
  });

  test('check names every refused endpoint with the privilege to add', async () => {
    fw.api.fault('/api/routes/gateway/status', { status: 403, reason: 'Forbidden' });
    fw.api.fault('/api/core/system/status', { status: 403, reason: 'Forbidden' });
    try {
      const [probe] = opnsense.probes!(ctx());
      await assert.rejects(probe!.probe(), (e: Error) => {
        assert.match(e.message, /^OPNsense https:\/\/127\.0\.0\.1:\d+ \(version 25\.7\.8-amd64\): the API key is refused/);
        assert.match(e.message, /\/routes\/gateway\/status \(privilege "System: Gateways"\), \/core\/system\/status \(privilege "System: Status"\)/);
        assert.match(e.message, /System → Access → Users → edit the user → Privileges/);
        return true;
      });
    } finally {
      fw.api.fault('/api/routes/gateway/status', undefined);
      fw.api.fault('/api/core/system/status', undefined);
    }
  });

  test('a refused key or secret (HTTP 401) names the key and secret files and their variables, never the secret', async () => {
    const [probe] = opnsense.probes!(ctx({ key_file: OPN_KEY, secret_file: 'not-the-secret' }));
    await assert.rejects(probe!.probe(), (e: Error) => {
      assert.match(e.message, /refused the token \(HTTP 401/);
      assert.match(e.message, /opnsense\.key_file or LABWATCH_OPNSENSE_KEY, opnsense\.secret_file or LABWATCH_OPNSENSE_SECRET/);
      assert.match(e.message, /System → Access → Users → the user → API keys/);
      assert.ok(!e.message.includes('not-the-secret') && !e.message.includes(OPN_KEY));
      return true;
    });
  });

  test('its tools are offered while the API takes the key (a missing privilege is one tool\'s error), not when it is refused', async () => {
    assert.equal(await opnsense.ready!(ctx(), AbortSignal.timeout(5000)), null);
    fw.api.fault('/api/routes/gateway/status', { status: 403, reason: 'Forbidden' });
    try {
      assert.equal(await opnsense.ready!(ctx(), AbortSignal.timeout(5000)), null);
    } finally {
      fw.api.fault('/api/routes/gateway/status', undefined);
    }
    assert.match(String(await opnsense.ready!(ctx({ key_file: OPN_KEY, secret_file: 'wrong' }), AbortSignal.timeout(5000))), /HTTP 401.*LABWATCH_OPNSENSE_SECRET/);
  });

  test('it polls every minute by default, as the firewall names itself', () => {
    const [s] = opnsense.collectors!(ctx());
    assert.equal(s!.schedule, '* * * * *');
    assert.equal(s!.collector.name, 'opnsense');
  });

  test('a missing key or secret says where to put it', () => {
    assert.throws(() => opnsense.collectors!(ctx({ secret_file: OPN_SECRET })), /opnsense: set opnsense\.key_file to a file holding the secret, or LABWATCH_OPNSENSE_KEY/);
    assert.throws(() => opnsense.collectors!(ctx({ key_file: OPN_KEY })), /opnsense: set opnsense\.secret_file to a file holding the secret, or LABWATCH_OPNSENSE_SECRET/);
  });

  test('the block refuses http:// and two ways to trust the certificate, all at once', () => {
    const r = opnsense.config!.safeParse({ url: 'http://fw.lab', tls_verify: false, ca_file: '/etc/labwatch/fw-ca.pem', timeout: 'soon' });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')).sort(), ['timeout', 'tls_fingerprint', 'url']);
    assert.match(r.error!.issues.find((i) => i.path[0] === 'tls_fingerprint')!.message, /one of ca_file, tls_fingerprint or tls_verify: false/);
  });
});
