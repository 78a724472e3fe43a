/**
 * Network paths across the lab: the interfaces that carry one network (a VLAN, or a group the owner
 * names under network.mtu_groups) must share one MTU, whichever system reports them — the seed's
 * "Kubernetes nodes at 9000, TrueNAS at 1500", which looks like latency. Each interface reading
 * with an MTU is remembered per path in Redis (different connectors, and different labwatch
 * processes, read different systems), so every reading is compared with the path as a whole: it
 * gets `path`, `path_mtu_expected` and `path_members` before the rules see it. Only the kind
 * `interface` and the values `name`, `mtu`, `vlan_id` are read: no system is named here.
 */
import type { Redis } from 'ioredis';
import type { Observation } from './observation.ts';

/** A member not heard from for this long has left the path (its system is gone or renamed). */
const FRESH_MS = 86_400_000;
const TTL_S = 7 * 86_400;

interface Member {
  mtu: number;
  at: string;
}

/**
 * The VLAN an interface carries: its `vlan_id`, or the number in names like eth0.20, vmbr1.20,
 * vlan20, igb1_vlan20 (Linux, Proxmox, FreeBSD/OPNsense, TrueNAS naming).
 */
export function vlanOf(values: Record<string, unknown>): number | undefined {
  if (typeof values.vlan_id === 'number' && values.vlan_id > 0) return values.vlan_id;
  const name = typeof values.name === 'string' ? values.name : '';
  const m = /^[^.]+\.(\d{1,4})$/.exec(name) ?? /(?:^|_)vlan(\d{1,4})$/i.exec(name);
  const id = m ? Number(m[1]) : NaN;
  return id > 0 && id < 4095 ? id : undefined;
}

/** The paths an interface is on: the owner's groups naming it as host:interface, else its VLAN. */
function pathsOf(obs: Pick<Observation, 'host' | 'values'>, groups: Record<string, string[]>): string[] {
  const me = `${obs.host}:${String(obs.values.name)}`;
  const named = Object.entries(groups)
    .filter(([, members]) => members.includes(me))
    .map(([name]) => name);
  if (named.length) return named;
  const vlan = vlanOf(obs.values);
  return vlan === undefined ? [] : [`vlan${vlan}`];
}

/** The MTU a path should have: the most common; a tie is settled by the smallest, which is what the path carries end to end. */
export function expectedMtu(mtus: number[]): number {
  const counts = new Map<number, number>();
  for (const m of mtus) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

/** One path as the tools show it. */
export interface PathView {
  path: string;
  members: { member: string; mtu: number; at: string }[];
  /** set when the members disagree */
  expected?: number;
  odd_ones?: string[];
}

export class NetworkPaths {
  constructor(
    private readonly redis: Redis,
    private readonly key: (path: string) => string,
    private readonly groups: Record<string, string[]>,
  ) {}

  /** Every path with its fresh members (`path` narrows to one), for people and the network_paths tool. */
  async list(now = new Date(), path?: string): Promise<PathView[]> {
    const pattern = this.key('*');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const prefix = pattern.slice(0, -1);
    const out: PathView[] = [];
    for (const key of keys.sort()) {
      const name = key.slice(prefix.length);
      if (path && name !== path) continue;
      const members = Object.entries(await this.redis.hgetall(key))
        .map(([member, raw]) => ({ member, ...(JSON.parse(raw) as Member) }))
        .filter((m) => now.getTime() - Date.parse(m.at) <= FRESH_MS)
        .sort((a, b) => a.member.localeCompare(b.member));
      if (members.length === 0) continue;
      const view: PathView = { path: name, members };
      if (new Set(members.map((m) => m.mtu)).size > 1) {
        view.expected = expectedMtu(members.map((m) => m.mtu));
        view.odd_ones = members.filter((m) => m.mtu !== view.expected).map((m) => m.member);
      }
      out.push(view);
    }
    return out;
  }

  /** The reading with its path's view added (or as it was, when it is on no path or has no MTU). */
  async annotate(obs: Observation, now: Date, opts: { dryRun?: boolean } = {}): Promise<Observation> {
    if (obs.kind !== 'interface' || obs.gone || typeof obs.values.mtu !== 'number' || typeof obs.values.name !== 'string') return obs;
    const paths = pathsOf(obs, this.groups);
    if (paths.length === 0) return obs;
    const me = `${obs.host}:${obs.values.name}`;
    const path = paths[0]!;
    const key = this.key(path);
    if (!opts.dryRun) {
      await this.redis.multi().hset(key, me, JSON.stringify({ mtu: obs.values.mtu, at: obs.at } satisfies Member)).expire(key, TTL_S).exec();
    }
    const stored = await this.redis.hgetall(key);
    const members = new Map<string, number>();
    for (const [name, raw] of Object.entries(stored)) {
      const m = JSON.parse(raw) as Member;
      if (now.getTime() - Date.parse(m.at) <= FRESH_MS) members.set(name, m.mtu);
    }
    members.set(me, obs.values.mtu);
    const values: Record<string, unknown> = { ...obs.values, path, path_size: members.size };
    values.path_members = [...members]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([n, m]) => `${n} ${m}`)
      .join(', ');
    // a path of one is no comparison; a path where all agree has nothing to say
    if (members.size >= 2 && new Set(members.values()).size > 1) {
      values.path_mtu_expected = expectedMtu([...members.values()]);
      values.path_mtu_smallest = Math.min(...members.values());
      values.path_odd_ones = [...members].filter(([, m]) => m !== values.path_mtu_expected).map(([n, m]) => `${n} (${m})`).join(', ');
    }
    return { ...obs, values };
  }
}
