/** The OPNsense tools a model or a person calls during an investigation, against the loopback stand-in. */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { opnsenseConfig } from '../../../src/connectors/opnsense/config.ts';
import { OpnsenseReader } from '../../../src/connectors/opnsense/read.ts';
import { opnsenseTools } from '../../../src/connectors/opnsense/tools.ts';
import type { ToolSpec } from '../../../src/tools/types.ts';
import { derived, OPN_KEY, OPN_SECRET, startOpnsense, type OpnsenseStandIn } from '../../helpers/opnsense.ts';

describe('the OPNsense tools', () => {
  let fw: OpnsenseStandIn;
  let tools: Map<string, ToolSpec>;
  before(async () => {
    fw = await startOpnsense();
    tools = new Map(opnsenseTools(OpnsenseReader.of(opnsenseConfig.parse(fw.block()), OPN_KEY, OPN_SECRET), 'fw.lab').map((t) => [t.name, t]));
  });
  after(() => fw.close());
  beforeEach(() => fw.reset());

  /** As runTool does: the input checked against the tool's shape first. */
  const call = (name: string, input: Record<string, unknown> = {}) => {
    const t = tools.get(name)!;
    return t.run(z.strictObject(t.input).parse(input), AbortSignal.timeout(10_000));
  };

  test('every tool is read-only and idempotent', () => {
    assert.deepEqual([...tools.keys()], ['opnsense_interfaces', 'opnsense_gateways', 'opnsense_system']);
    for (const t of tools.values()) assert.deepEqual(t.annotations, { readOnly: true, destructive: false, idempotent: true, openWorld: false });
  });

  test('interfaces by VLAN show the VLAN and its parent, with counters; a wrapped one is named', async () => {
    const r = await call('opnsense_interfaces', { vlan: 81 });
    assert.equal(r.status, 'ok');
    assert.deepEqual((r.data!.interfaces as { name: string }[]).map((i) => i.name), ['ax0', 'ax0_vlan81']);
    assert.match(r.text, /ax0_vlan81 \(VLAN81wifi\): up, MTU 1500, VLAN 81 on ax0, 0 rx \/ 2866 tx errors/);
    const wan = await call('opnsense_interfaces', { name: 'WAN' });
    assert.match(wan.text, /^ax1 \(WAN\): up, MTU 1500, 1675 rx \/ \? tx errors, 0 \/ 0 drops \(not valid: tx_errors\); 10GBase-SFI/);
  });

  test('an interface the firewall does not have is an error that lists the ones it has; a name with a slash is refused before any call', async () => {
    const r = await call('opnsense_interfaces', { name: 'igb7' });
    assert.equal(r.status, 'error');
    assert.match(r.text, /no interface "igb7" on this firewall \(interfaces: ax0, ax1, ax0_vlan81, igb0, bridge0, ax0_vlan5\)/);
    assert.throws(() => z.strictObject(tools.get('opnsense_interfaces')!.input).parse({ name: '../core/firmware' }));
    assert.equal(fw.api.calls.filter((c) => c.includes('firmware')).length, 0);
  });

  test('gateways say status, loss and delay, and which are not monitored', async () => {
    const down = derived<{ items: Record<string, unknown>[] }>('gateway-status.json');
    Object.assign(down.items[0]!, { status: 'down', status_translated: 'Offline', loss: '100.0 %', delay: '0.0 ms' });
    fw.set('routes/gateway/status', down);
    const r = await call('opnsense_gateways');
    assert.equal(r.text, 'gateway WAN_DHCP · Offline · 0 ms, 100 % loss\ngateway WAN_DHCP6 · Online · not monitored');
    fw.set('routes/gateway/status', { items: [], status: 'failed' });
    assert.equal((await call('opnsense_gateways')).status, 'no_data');
  });

  test('system shows versions, memory, filesystems and notices, and what it could not read', async () => {
    fw.api.fault('/api/diagnostics/system/system_disk', { status: 403, reason: 'Forbidden' });
    try {
      const r = await call('opnsense_system');
      assert.equal(r.status, 'ok');
      assert.match(r.text, /^fw\.lab: OPNsense 25\.7\.8-amd64, FreeBSD 14\.3-RELEASE-p5/);
      assert.match(r.text, /memory 17\.4 % used \(30\.1 % with the ZFS ARC\)/);
      assert.match(r.text, /no notices/);
      assert.match(r.text, /not read: .*privilege "Lobby: Dashboard"/);
    } finally {
      fw.api.fault('/api/diagnostics/system/system_disk', undefined);
    }
  });
});
