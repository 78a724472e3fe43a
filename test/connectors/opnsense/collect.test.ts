/**
 * An OPNsense firewall read through its API: the collector's observations over successive polls,
 * judged by the shipped rules (rules/*.yaml, the same evaluation the daemon runs, history and `for:`
 * included), against a loopback HTTPS stand-in pinned by fingerprint that fails the test on any
 * call that is not a GET with the key and secret.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { opnsenseCollector } from '../../../src/connectors/opnsense/collect.ts';
import { opnsenseConfig } from '../../../src/connectors/opnsense/config.ts';
import { OpnsenseReader } from '../../../src/connectors/opnsense/read.ts';
import type { Anomaly, HistoryPoint, Observation } from '../../../src/connectors/types.ts';
import { contextFor, evaluateRule, rulesFor, type RuleState } from '../../../src/rules/evaluate.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { numericValues } from '../../../src/rules/observation.ts';
import { derived, OPN_KEY, OPN_SECRET, startOpnsense, type OpnsenseStandIn } from '../../helpers/opnsense.ts';

const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;
const T0 = Date.parse('2026-12-01T10:00:00Z');

/** The rules as the daemon applies them poll after poll: previous values, history and each rule's state kept per subject. */
function judge() {
  const last = new Map<string, Record<string, unknown>>();
  const history = new Map<string, HistoryPoint[]>();
  const states = new Map<string, RuleState>();
  return (obs: Observation[]): Anomaly[] =>
    obs.flatMap((o) => {
      const ctx = contextFor(o, last.get(o.subject), history.get(o.subject) ?? [], new Date(o.at));
      const out = rulesFor(RULES, o).flatMap((r) => {
        const res = evaluateRule(r, o, ctx, states.get(`${r.id}|${o.subject}`));
        assert.notEqual(res.verdict, 'error', res.error);
        states.set(`${r.id}|${o.subject}`, res.state);
        return res.anomaly ?? [];
      });
      if (!o.gone) {
        last.set(o.subject, o.values);
        history.set(o.subject, [...(history.get(o.subject) ?? []), { at: o.at, values: numericValues(o.values) }]);
      }
      return out;
    });
}

const firing = (as: Anomaly[]) => as.filter((a) => a.status === 'firing');

describe('an OPNsense firewall through its API', () => {
  let fw: OpnsenseStandIn;
  before(async () => {
    fw = await startOpnsense();
  });
  after(() => fw.close());
  beforeEach(() => fw.reset());

  /** A collector whose clock moves a minute per poll (the default schedule). */
  const collector = () => {
    let t = T0;
    const c = opnsenseCollector({ reader: OpnsenseReader.of(opnsenseConfig.parse(fw.block()), OPN_KEY, OPN_SECRET), host: 'fw.lab', clock: () => t });
    return { poll: async () => c.collect(AbortSignal.timeout(10_000)).finally(() => (t += 60_000)) };
  };

  test('a healthy firewall raises nothing, and a poll is six GETs', async () => {
    const c = collector();
    const rules = judge();
    fw.api.take();
    const first = await c.poll();
    assert.deepEqual(firing(rules(first)).map((a) => a.summary), []);
    const calls = fw.api.take();
    assert.deepEqual(calls, [
      'GET /api/interfaces/overview/export',
      'GET /api/diagnostics/interface/get_interface_statistics',
      'GET /api/routes/gateway/status',
      'GET /api/diagnostics/system/system_resources',
      'GET /api/diagnostics/system/system_disk',
      'GET /api/core/system/status',
    ]);
    assert.deepEqual(firing(rules(await c.poll())).map((a) => a.summary), [], 'nor on the second poll, with history');

    const vlan = first.find((o) => o.subject === 'if:ax0_vlan81')!;
    assert.equal(vlan.reading, 'host', 'the lab-wide interface rules apply');
    assert.equal(vlan.host, 'fw.lab');
    assert.deepEqual(
      { state: vlan.values.state, mtu: vlan.values.mtu, vlan_id: vlan.values.vlan_id, parent: vlan.values.parent, description: vlan.values.description, tx_errors: vlan.values.tx_errors, speed: vlan.values.speed_mbps },
      { state: 'up', mtu: 1500, vlan_id: 81, parent: 'ax0', description: 'VLAN81wifi', tx_errors: 2866, speed: 10000 },
    );
    const unassigned = first.find((o) => o.subject === 'if:igb0')!;
    assert.deepEqual({ state: unassigned.values.state, description: unassigned.values.description, assigned: unassigned.values.assigned }, { state: 'down', description: '', assigned: false });
    const wan = first.find((o) => o.subject === 'gateway:WAN_DHCP')!;
    assert.deepEqual({ status: wan.values.status, loss: wan.values.loss_pct, delay: wan.values.delay_ms, stddev: wan.values.stddev_ms, monitored: wan.values.monitored }, { status: 'none', loss: 0, delay: 11.1, stddev: 2.3, monitored: true });
    assert.equal(first.find((o) => o.subject === 'gateway:WAN_DHCP6')!.values.monitored, false, '"~" means not monitored');
    const sys = first.find((o) => o.subject === 'opnsense:fw.lab')!;
    assert.deepEqual({ pct: sys.values.mem_used_pct, withArc: sys.values.mem_used_pct_with_arc }, { pct: 17.4, withArc: 30.1 });
    assert.deepEqual(first.filter((o) => o.kind === 'filesystem').map((o) => `${String(o.values.mount)} ${String(o.values.used_pct)}`), ['/ 4', '/var/log 1', '/var/run 0']);
    assert.deepEqual(first.filter((o) => o.kind === 'notice').map((o) => `${String(o.values.subsystem)} ${String(o.values.status_code)}`), ['CrashReporter 2', 'DiskSpace 2', 'Firewall 2']);
    assert.ok(first.filter((o) => o.kind === 'collector').every((o) => o.values.ok === true));
  });

  test('input errors growing on a VLAN parent across two polls raise the interface errors rule once, naming the port and the OPNsense place to look', async () => {
    const c = collector();
    const rules = judge();
    fw.counter('ax0', 'input errors', '120');
    assert.deepEqual(firing(rules(await c.poll())), []);
    fw.counter('ax0', 'input errors', '480');
    const raised = firing(rules(await c.poll()));
    assert.deepEqual(raised.map((a) => a.rule), ['host-interface-errors-growing'], 'one rule speaks');
    const [a] = raised;
    assert.equal(a!.subject, 'if:ax0');
    assert.equal(a!.host, 'fw.lab');
    assert.equal(a!.summary, 'ax0 (LAN): receive/transmit errors growing (480 rx, 0 tx)');
    assert.match(a!.description ?? '', /media 10GBase-SFI <full-duplex/);
    assert.match(a!.actions![0]!.text, /cable or SFP of ax0/);
    assert.match(a!.actions![1]!.text, /speed and duplex.*Interfaces → Overview on OPNsense/);
  });

  test('a wrapped uint64 counter is left out, not reported as growth', async () => {
    const c = collector();
    const rules = judge();
    const first = await c.poll();
    fw.counter('ax1', 'output errors', '18446744073709551000'); // still wrapped, "grew" by 507
    const second = await c.poll();
    for (const polled of [first, second]) {
      const wan = polled.find((o) => o.subject === 'if:ax1')!;
      assert.equal(wan.values.tx_errors, undefined);
      assert.equal(wan.values.invalid_counters, 'tx_errors');
      assert.equal(wan.values.rx_errors, 1675);
      assert.equal(wan.values.errors_total, 1675, 'the total counts what is known');
    }
    rules(first);
    assert.deepEqual(firing(rules(second)), []);
  });

  test('a gateway that goes down is critical, and resolves when it is back', async () => {
    const c = collector();
    const rules = judge();
    rules(await c.poll());
    const down = derived<{ items: Record<string, unknown>[] }>('gateway-status.json');
    Object.assign(down.items[0]!, { status: 'down', status_translated: 'Offline', loss: '100.0 %', delay: '0.0 ms', stddev: '0.0 ms' });
    fw.set('routes/gateway/status', down);
    const raised = firing(rules(await c.poll()));
    assert.deepEqual(raised.map((a) => [a.rule, a.severity, a.summary]), [['opnsense-gateway-down', 'critical', 'gateway WAN_DHCP on fw.lab is down (100 % loss to 68.47.6.1)']]);
    fw.set('routes/gateway/status', derived('gateway-status.json'));
    assert.deepEqual(rules(await c.poll()).map((a) => [a.rule, a.status]), [['opnsense-gateway-down', 'resolved']]);
  });

  test('a system notice is raised while OPNsense shows it and resolved when it is gone', async () => {
    const c = collector();
    const rules = judge();
    const crash = derived<Record<string, Record<string, unknown>>>('system-status-ok.json');
    crash.CrashReporter = { ...crash.CrashReporter, statusCode: -1, status: 'Error', message: 'An issue was detected and can be reviewed using the firmware crash reporter.', timestamp: '1796119000', age: '3 minutes ago' };
    crash.System = { status: 'Error' };
    fw.set('core/system/status', crash);
    const raised = firing(rules(await c.poll()));
    assert.deepEqual(raised.map((a) => [a.rule, a.subject]), [['opnsense-notice', 'opnsense-notice:fw.lab/CrashReporter']]);
    assert.match(raised[0]!.summary, /CrashReporter, Error\): An issue was detected/);
    // dismissed: the subsystem is no longer listed (the user may also lose the page's privilege)
    delete crash.CrashReporter;
    fw.set('core/system/status', crash);
    assert.deepEqual(rules(await c.poll()).map((a) => [a.rule, a.status]), [['opnsense-notice', 'resolved']]);
  });

  test('a part the API user may not read is reported with the privilege to add; the rest is still read', async () => {
    fw.api.fault('/api/diagnostics/interface/get_interface_statistics', { status: 403, reason: 'Forbidden', body: '{"status":403,"message":"Forbidden"}' });
    try {
      const obs = await collector().poll();
      const netstat = obs.find((o) => o.subject === 'collector:opnsense/netstat')!;
      assert.equal(netstat.values.ok, false);
      assert.match(String(netstat.values.error), /refused to this API key \(HTTP 403\): add the privilege "Diagnostics: Netstat"/);
      assert.ok(obs.some((o) => o.subject === 'if:ax0_vlan81' && o.values.rx_errors === 0), 'the overview alone carries the counters');
      assert.ok(obs.some((o) => o.subject === 'gateway:WAN_DHCP'));
      assert.ok(!JSON.stringify(obs).includes(OPN_SECRET) && !JSON.stringify(obs).includes(OPN_KEY));
    } finally {
      fw.api.fault('/api/diagnostics/interface/get_interface_statistics', undefined);
    }
  });

  test('a firewall older than 25.7 is read through the camelCase actions', async () => {
    fw.api.fault('/api/diagnostics/system/system_resources', { status: 404, reason: 'Not Found', body: '{"errorMessage":"Endpoint not found"}' });
    fw.set('diagnostics/system/systemResources', derived('system-resources.json'));
    try {
      const c = collector();
      fw.api.take();
      const obs = await c.poll();
      assert.equal(obs.find((o) => o.subject === 'opnsense:fw.lab')!.values.mem_used_pct, 17.4);
      assert.ok(obs.find((o) => o.subject === 'collector:opnsense/system')!.values.ok);
      await c.poll();
      const calls = fw.api.take();
      assert.equal(calls.filter((l) => l.includes('system_resources')).length, 1, 'the snake_case name is tried once, then remembered');
      assert.equal(calls.filter((l) => l.includes('systemResources')).length, 2);
    } finally {
      fw.api.fault('/api/diagnostics/system/system_resources', undefined);
    }
  });
});
