/**
 * Each node's configured network (bridges, VLANs, bonds) as interface observations. Proxmox
 * reports only what /etc/network/interfaces sets: no `mtu` means 1500 for a bridge or NIC, and a
 * VLAN interface inherits its raw device's. Guests migrate between nodes, so a bridge of the same
 * name must carry the same MTU on every node: the most common one is what the others should have,
 * which is what the host connector's host-mtu-mismatch rule reads (`reading: host`).
 */
import type { Observation } from '../types.ts';
import type { Iface } from './read.ts';

const DEFAULT_MTU = 1500;
const WATCHED = new Set(['bridge', 'vlan', 'bond', 'eth', 'OVSBridge', 'OVSBond', 'OVSIntPort']);

function configuredMtu(i: Iface, all: Iface[]): { mtu: number; configured: boolean } {
  if (i.mtu !== undefined) return { mtu: i.mtu, configured: true };
  if (i.type === 'vlan') {
    const raw = i['vlan-raw-device'] ?? i.iface.split('.')[0];
    const parent = all.find((p) => p.iface === raw);
    if (parent && parent !== i) return { mtu: configuredMtu(parent, all).mtu, configured: false };
  }
  return { mtu: DEFAULT_MTU, configured: false };
}

/** `networks`: each node's interface list. */
export function interfaceObservations(networks: Map<string, Iface[]>, at: string): Observation[] {
  const rows: { node: string; i: Iface; mtu: number; configured: boolean }[] = [];
  for (const [node, list] of networks)
    for (const i of list) if (WATCHED.has(i.type)) rows.push({ node, i, ...configuredMtu(i, list) });
  const byName = new Map<string, typeof rows>();
  for (const r of rows) byName.set(r.i.iface, [...(byName.get(r.i.iface) ?? []), r]);
  return rows.map((r) => {
    const peers = byName.get(r.i.iface)!;
    const values: Record<string, unknown> = {
      name: r.i.iface,
      node: r.node,
      type: r.i.type,
      mtu: r.mtu,
      mtu_configured: r.configured,
      bridge_ports: r.i.bridge_ports ?? '',
      active: r.i.active ?? false,
    };
    if (r.i['vlan-id'] !== undefined) values.vlan_id = r.i['vlan-id'];
    const mtus = new Set(peers.map((p) => p.mtu));
    if (peers.length >= 2 && mtus.size > 1) {
      values.mtu_expected = mostCommon(peers.map((p) => p.mtu));
      values.mtu_group = `${r.i.iface} on ${peers.map((p) => `${p.node} (${p.mtu})`).join(', ')}`;
    }
    return { source: 'proxmox', reading: 'host', kind: 'interface', subject: `if:${r.i.iface}`, host: r.node, at, values };
  });
}

/** The most frequent MTU; a tie goes to the smallest, what a path carries end to end (as rules/paths.ts settles it). */
function mostCommon(xs: number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}
