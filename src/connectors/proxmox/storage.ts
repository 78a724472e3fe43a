/**
 * Storage as each node sees it. A node-local storage is its own subject (`storage:<node>/<name>`);
 * a shared one (NFS, CIFS, Ceph, PBS) is one subject whichever node reports it (`storage:<name>`),
 * inactive when any node cannot reach it — the node that cannot is the one to look at.
 */
import type { Observation } from '../types.ts';
import type { Storage } from './read.ts';

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);

function values(st: Storage, node: string): Record<string, unknown> {
  const total = st.total ?? 0;
  const v: Record<string, unknown> = {
    name: st.storage,
    node,
    type: st.type,
    content: st.content,
    shared: st.shared ?? false,
    enabled: st.enabled ?? true,
    active: st.active ?? false,
    holds_guests: /\b(images|rootdir)\b/.test(st.content),
  };
  if (total > 0) Object.assign(v, { used_pct: pct(st.used ?? 0, total), total_bytes: total, used_bytes: st.used ?? 0, avail_bytes: st.avail ?? total - (st.used ?? 0) });
  return v;
}

/** `perNode`: each answering node's /nodes/{node}/storage. */
export function storageObservations(perNode: Map<string, Storage[]>, at: string): Observation[] {
  const out: Observation[] = [];
  const shared = new Map<string, { node: string; st: Storage }[]>();
  for (const node of [...perNode.keys()].sort())
    for (const st of perNode.get(node)!) {
      if (st.shared) shared.set(st.storage, [...(shared.get(st.storage) ?? []), { node, st }]);
      else out.push(observation(`storage:${node}/${st.storage}`, node, values(st, node), at));
    }
  for (const [name, seen] of shared) {
    const inactive = seen.filter((s) => s.st.enabled !== false && !s.st.active);
    const from = seen.find((s) => s.st.active) ?? seen[0]!;
    const v = values(from.st, (inactive[0] ?? from).node);
    if (inactive.length) Object.assign(v, { active: false, inactive_on: inactive.map((s) => s.node).join(', ') });
    out.push(observation(`storage:${name}`, String(v.node), v, at));
  }
  return out;
}

function observation(subject: string, node: string, v: Record<string, unknown>, at: string): Observation {
  return { source: 'proxmox', kind: 'storage', subject, host: node, at, values: v, summary: `${v.name} (${v.type}) ${v.used_pct ?? '?'} % used${v.active ? '' : ' · INACTIVE'}`, trend: 'used_pct' };
}
