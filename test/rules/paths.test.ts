/**
 * Network paths across systems, through the real rule engine and real Redis: interfaces that three
 * different connectors read (Proxmox, TrueNAS, OPNsense) are compared as one path, by the owner's
 * network.mtu_groups or by their VLAN id, and only the odd one out is raised.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RuleEngine } from '../../src/rules/engine.ts';
import { loadRules } from '../../src/rules/load.ts';
import { expectedMtu, vlanOf } from '../../src/rules/paths.ts';
import type { Observation } from '../../src/rules/observation.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';

const prefix = `lwtest-paths-${randomBytes(3).toString('hex')}`;
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

const T0 = Date.parse('2026-12-01T10:00:00Z');
const iface = (source: string, host: string, name: string, mtu: number, extra: Record<string, unknown> = {}, minute = 0): Observation => ({
  source,
  reading: 'host',
  kind: 'interface',
  subject: `if:${name}`,
  host,
  at: new Date(T0 + minute * 60_000).toISOString(),
  values: { name, mtu, state: 'up', ...extra },
});

test('VLAN ids are read from the value or from the names Linux, Proxmox, OPNsense and TrueNAS give', () => {
  assert.equal(vlanOf({ name: 'x', vlan_id: 30 }), 30);
  assert.equal(vlanOf({ name: 'vmbr1.20' }), 20);
  assert.equal(vlanOf({ name: 'vlan20' }), 20);
  assert.equal(vlanOf({ name: 'igb1_vlan20' }), 20);
  assert.equal(vlanOf({ name: 'enp3s0' }), undefined);
  assert.equal(vlanOf({ name: 'eth0.5000' }), undefined, 'not a VLAN id');
  assert.equal(expectedMtu([9000, 9000, 1500]), 9000);
  assert.equal(expectedMtu([9000, 1500]), 1500, 'a tie goes to the smallest: what the path carries end to end');
});

test("a named path across three systems raises only the odd interface, naming both ends' MTUs and the fix; fixing it resolves", async () => {
  const engine = new RuleEngine(redis, `${prefix}-named`, rules, createLogger({ level: 'silent' }), undefined, { storage: ['pve1:vmbr1', 'nas:enp3s0', 'fw:igb1'] });
  const now = (m: number) => new Date(T0 + m * 60_000);
  const first = await engine.observe([iface('proxmox', 'pve1', 'vmbr1', 9000), iface('opnsense', 'fw', 'igb1', 9000)], { now: now(0) });
  assert.deepEqual(first.anomalies, []);
  const nas = await engine.observe([iface('truenas', 'nas', 'enp3s0', 1500, {}, 1)], { now: now(1) });
  const differs = nas.anomalies.filter((a) => a.rule === 'network-path-mtu-differs');
  assert.equal(differs.length, 1);
  assert.equal(differs[0]!.host, 'nas');
  assert.equal(differs[0]!.summary, 'nas:enp3s0 has MTU 1500, but storage uses 9000 (fw:igb1 9000, nas:enp3s0 1500, pve1:vmbr1 9000)');
  assert.ok(differs[0]!.actions!.some((a) => a.text.includes('Set MTU 9000 on nas:enp3s0')));
  // the others, read again, still agree with the path: nothing for them
  const again = await engine.observe([iface('proxmox', 'pve1', 'vmbr1', 9000, {}, 2), iface('opnsense', 'fw', 'igb1', 9000, {}, 2)], { now: now(2) });
  assert.deepEqual(again.anomalies.filter((a) => a.status === 'firing'), []);
  const fixed = await engine.observe([iface('truenas', 'nas', 'enp3s0', 9000, {}, 3)], { now: now(3) });
  assert.deepEqual(fixed.anomalies.map((a) => [a.rule, a.status]), [['network-path-mtu-differs', 'resolved']]);
});

test('without configuration, the same VLAN on different systems is a path; a member silent for a day no longer counts', async () => {
  const engine = new RuleEngine(redis, `${prefix}-vlan`, rules, createLogger({ level: 'silent' }));
  const now = (m: number) => new Date(T0 + m * 60_000);
  await engine.observe([iface('proxmox', 'pve1', 'vmbr0.30', 9000), iface('proxmox', 'pve2', 'vmbr0.30', 9000)], { now: now(0) });
  const fw = await engine.observe([iface('opnsense', 'fw', 'igb1_vlan30', 1500, {}, 1)], { now: now(1) });
  assert.equal(fw.anomalies.find((a) => a.rule === 'network-path-mtu-differs')?.summary, 'fw:igb1_vlan30 has MTU 1500, but vlan30 uses 9000 (fw:igb1_vlan30 1500, pve1:vmbr0.30 9000, pve2:vmbr0.30 9000)');
  // two days later the Proxmox readings are stale (the nodes were renamed): the firewall is alone
  const later = await engine.observe([iface('opnsense', 'fw', 'igb1_vlan30', 1500, {}, 2 * 1440)], { now: now(2 * 1440) });
  assert.deepEqual(later.anomalies.map((a) => [a.rule, a.status]), [['network-path-mtu-differs', 'resolved']]);
});
