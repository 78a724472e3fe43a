/**
 * Host state → observations: one per filesystem (`fs:<mount>`), memory, cpu and interface
 * (`if:<name>`). Interfaces the user groups under `mtu_groups` carry the MTU their group should
 * share, so a rule can flag the odd one out (jumbo frames on the NAS, 1500 on the bridge).
 */
import type { Observation } from '../types.ts';
import type { Collector } from '../types.ts';
import { readHost, type HostState } from './read.ts';

export interface HostCollectorOptions {
  host: string;
  /** interface names that should share one MTU, e.g. [["eno1", "vmbr0"]] */
  mtuGroups: string[][];
  read?: () => Promise<HostState>;
}

/** The MTU most members of the group use (ties: the larger, as jumbo frames are set on purpose). */
function expectedMtu(group: string[], state: HostState): number | undefined {
  const counts = new Map<number, number>();
  for (const name of group) {
    const mtu = state.interfaces.find((i) => i.name === name)?.mtu;
    if (mtu !== undefined) counts.set(mtu, (counts.get(mtu) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}

function hostObservations(state: HostState, host: string, mtuGroups: string[][], at = new Date().toISOString()): Observation[] {
  const obs = (kind: string, subject: string, values: Record<string, unknown>): Observation => ({ source: 'host', kind, subject, host, at, values });
  const out: Observation[] = [];
  for (const f of state.filesystems)
    out.push(obs('filesystem', `fs:${f.mount}`, { mount: f.mount, device: f.device, type: f.type, size_bytes: f.sizeBytes, used_bytes: f.usedBytes, available_bytes: f.availableBytes, used_pct: f.usedPct, read_only: f.readOnly }));
  const m = state.memory;
  out.push(obs('memory', 'memory', { total_bytes: m.totalBytes, available_bytes: m.availableBytes, used_pct: m.usedPct, swap_total_bytes: m.swapTotalBytes, swap_used_pct: m.swapUsedPct }));
  const c = state.cpu;
  out.push(obs('cpu', 'cpu', { cores: c.cores, load1: c.load1, load5: c.load5, load15: c.load15, load_per_core: c.load5 / Math.max(1, c.cores), ...(c.temperatureC !== undefined ? { temperature_c: c.temperatureC } : {}) }));
  for (const i of state.interfaces) {
    const group = mtuGroups.find((g) => g.includes(i.name));
    const expected = group ? expectedMtu(group, state) : undefined;
    out.push(
      obs('interface', `if:${i.name}`, {
        name: i.name,
        state: i.state,
        virtual: i.virtual,
        rx_errors: i.rxErrors,
        tx_errors: i.txErrors,
        rx_dropped: i.rxDropped,
        tx_dropped: i.txDropped,
        errors_total: i.rxErrors + i.txErrors,
        ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
        ...(i.speedMbps !== undefined ? { speed_mbps: i.speedMbps } : {}),
        ...(expected !== undefined ? { mtu_expected: expected, mtu_group: group!.join(',') } : {}),
      }),
    );
  }
  return out;
}

export function hostCollector(opts: HostCollectorOptions): Collector {
  return {
    name: 'host',
    collect: async () => hostObservations(await (opts.read ?? readHost)(), opts.host, opts.mtuGroups),
  };
}
