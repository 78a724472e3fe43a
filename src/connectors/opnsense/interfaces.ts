/**
 * The firewall's interfaces and VLANs as the lab-wide `interface` observations (reading `host`,
 * so host.yaml's and network.yaml's interface rules apply). Counters come from the overview's
 * netstat part, as decimal strings; a driver counter that went below zero shows as a wrapped
 * uint64 near 2^64 ("18446744073709550493" in the real capture): such a value is no count and is
 * left out, never read as growth. netstat -i's <Link#n> row fills what the overview lacks.
 */
import type { Observation } from '../types.ts';
import type { Iface, NetstatRow } from './read.ts';

const MAX_COUNTER = 2n ** 63n;

/** A counter as OPNsense sends it ("1675", 1675), or undefined when it is not a valid count. */
function counter(v: unknown): number | undefined {
  const s = typeof v === 'number' && Number.isInteger(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^\d+$/.test(s)) return undefined;
  return BigInt(s) >= MAX_COUNTER ? undefined : Number(s);
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** VLAN tag and parent: from the overview's `vlan`/`vlan_tag`, else from the device name (igb1_vlan20, igb1.20). */
function vlanOf(i: Iface): { vlan_id?: number; parent: string } {
  const byName = /^(.+)_vlan(\d+)$/.exec(i.device) ?? /^(.+)\.(\d+)$/.exec(i.device);
  const tag = int(i.vlan?.tag) ?? int(i.vlan_tag) ?? (byName ? Number(byName[2]) : undefined);
  // vlan0.20 names the VLAN device, not its parent: only the overview's `vlan.parent` says that
  const parent = i.vlan?.parent ?? (byName && !/^vlan\d+$/.test(byName[1]!) ? byName[1]! : '');
  return tag === undefined ? { parent: '' } : { vlan_id: tag, parent };
}

/** up / down from the link (status "up", "no carrier"; netstat's link state 2 = up, 1 = down). */
function stateOf(i: Iface, stats: Record<string, unknown>): 'up' | 'down' | 'unknown' {
  if (i.flags && !i.flags.includes('up')) return 'down'; // administratively down
  if (i.status === 'up' || i.status === 'active') return 'up';
  if (i.status === 'no carrier' || i.status === 'down') return 'down';
  const link = int(stats['link state']);
  return link === 2 ? 'up' : link === 1 ? 'down' : 'unknown';
}

/** The netstat <Link#n> row of each device. */
export function linkRows(rows: NetstatRow[]): Map<string, NetstatRow> {
  return new Map(rows.filter((r) => (r.network ?? '').startsWith('<Link')).map((r) => [r.name, r]));
}

export function interfaceValues(i: Iface, link: NetstatRow | undefined): Record<string, unknown> {
  const stats = i.statistics ?? {};
  const keys = { rx_errors: ['input errors', 'received-errors'], tx_errors: ['output errors', 'send-errors'], rx_dropped: ['input queue drops', 'dropped-packets'], tx_dropped: ['send queue drops', 'send-drops'] } as const;
  const counters: Record<string, number | undefined> = {};
  const invalid: string[] = [];
  for (const [name, [overviewKey, netstatKey]] of Object.entries(keys)) {
    const raw = overviewKey in stats ? stats[overviewKey] : link?.[netstatKey];
    counters[name] = counter(raw);
    // a counter left out is named, so a person reading the values sees why it is missing
    if (raw !== undefined && counters[name] === undefined) invalid.push(name);
  }
  const state = stateOf(i, stats);
  const vlan = vlanOf(i);
  const mtu = int(i.mtu) ?? int(stats.mtu) ?? int(link?.mtu);
  const rate = /^(\d+) bit\/s$/.exec(String(stats['line rate'] ?? ''));
  const speed = rate && state === 'up' ? Math.round(Number(rate[1]) / 1e6) : 0;
  const values: Record<string, unknown> = {
    name: i.device,
    // rules/opnsense.yaml speaks for a firewall's port (host.yaml's ethtool advice does not apply)
    state,
    ...(mtu !== undefined ? { mtu } : {}),
    ...vlan,
    virtual: i.is_physical === false,
    // an unassigned NIC's "Unassigned Interface" is a placeholder, not a label
    description: i.identifier ? (i.description ?? '') : '',
    assigned: Boolean(i.identifier),
    enabled: i.enabled ?? false,
    media: i.media ?? '',
  };
  for (const [k, v] of Object.entries(counters)) if (v !== undefined) values[k] = v;
  // the sum of what is known: a wrapped counter counts again once it is back past zero, then small
  if (counters.rx_errors !== undefined || counters.tx_errors !== undefined) values.errors_total = (counters.rx_errors ?? 0) + (counters.tx_errors ?? 0);
  if (invalid.length) values.invalid_counters = invalid.join(', ');
  if (speed > 0) values.speed_mbps = speed;
  return values;
}

/** Pseudo-interfaces with no link to judge: loopback, pf's log and sync devices, IPsec's enc0. */
const PSEUDO = /^(lo|pflog|pfsync|enc)\d+$/;

export function interfaceObservations(ifaces: Iface[], netstat: NetstatRow[], host: string, at: string): Observation[] {
  const links = linkRows(netstat);
  return ifaces.filter((i) => !PSEUDO.test(i.device)).map((i) => {
    const values = interfaceValues(i, links.get(i.device));
    const label = values.description ? ` (${String(values.description)})` : '';
    const vlan = values.vlan_id !== undefined ? ` · VLAN ${String(values.vlan_id)}${values.parent ? ` on ${String(values.parent)}` : ''}` : '';
    return {
      source: 'opnsense',
      reading: 'host',
      kind: 'interface',
      subject: `if:${i.device}`,
      host,
      at,
      values,
      summary: `${i.device}${label} · ${String(values.state)}${vlan} · MTU ${String(values.mtu ?? '?')} · ${String(values.rx_errors ?? '?')} rx / ${String(values.tx_errors ?? '?')} tx errors`,
      trend: 'errors_total',
    };
  });
}
