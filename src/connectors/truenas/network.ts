/**
 * The NAS's interfaces (`interface.query`) as the interface observations the lab-wide network
 * checks read (reading 'host'): link state, MTU (the running one from `state.mtu`, else the
 * configured one), VLAN tag and parent, addresses. TrueNAS's interface.query gives no error
 * counters, so none are sent (absent, never zero).
 */
import type { Observation } from '../types.ts';
import type { TnIface } from './read.ts';

/** LINK_STATE_UP / LINK_STATE_DOWN / LINK_STATE_UNKNOWN (the middleware's netif names) → up/down/unknown. */
function linkState(s: string | undefined): 'up' | 'down' | 'unknown' {
  const t = (s ?? '').toUpperCase();
  if (t.endsWith('UP')) return 'up';
  if (t.endsWith('DOWN')) return 'down';
  return 'unknown';
}

export function interfaceObservations(ifaces: TnIface[], host: string, at: string): Observation[] {
  return ifaces.map((i) => {
    const values: Record<string, unknown> = {
      name: i.name,
      state: linkState(i.state?.link_state),
      type: i.type,
      parent: i.vlan_parent_interface ?? '',
      description: i.description,
      addresses: i.aliases.map((a) => `${a.address}/${a.netmask ?? ''}`).join(', '),
    };
    const mtu = i.state?.mtu ?? i.mtu;
    if (typeof mtu === 'number' && mtu > 0) values.mtu = mtu;
    if (typeof i.vlan_tag === 'number') values.vlan_id = i.vlan_tag;
    return { source: 'truenas', reading: 'host', kind: 'interface', subject: `if:${i.name}`, host, at, values, summary: `${i.name} ${values.state}${values.mtu ? ` · MTU ${values.mtu}` : ''}` };
  });
}
