/**
 * Proxmox VE diagnostic tools over the one ProxmoxReader: the cluster, its guests and storage here,
 * one node's status, drives and tasks in tools-node.ts. All read-only; every name the model gives
 * is checked against what the cluster lists before it goes into a URL.
 */
import * as z from 'zod';
import { ApiError, apiGuarded as guarded } from '../api-client.ts';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import type { HaEntry, ProxmoxReader, Resource, Storage } from './read.ts';
import { kernel, pct, pveVersion } from './node.ts';
import { bytes, iso, knownNode, nodeName, nodeTools, refused, uptime } from './tools-node.ts';

const MAX_GUESTS = 100;
const MAX_RUNS = 5;
/** Config keys that may hold a secret: never shown, only named (notes, extra QEMU args and environment are free text where people put passwords). */
const SECRET_KEY = /pass|secret|token|key|environment/i;
const SECRET_KEYS = new Set(['cipassword', 'sshkeys', 'description', 'args', 'env']);

type NodeVersion = { pveversion?: string; kernel?: string; version_error?: string };
const isGuest = (r: Resource): r is Resource & { vmid: number; node: string } => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined && r.node !== undefined;
const subjectOf = (r: Resource) => `${r.type === 'qemu' ? 'vm' : 'ct'}:${r.vmid}`;
const tagsOf = (r: Resource) => (r.tags ?? '').split(/[;,\s]+/).filter(Boolean);

function clusterStatusTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_cluster_status',
    title: 'Proxmox cluster: quorum, nodes, HA',
    description:
      'The Proxmox VE cluster as a whole: its name and quorum, every node online or offline with its pve-manager and kernel ' +
      'version (mixed versions are pointed out), and the HA manager: the master, each node\'s LRM and every HA-managed service ' +
      'with its state (those not "started" are listed). Call it first for anything cluster-wide, a node that seems gone, or an HA ' +
      'service in error or fence. A single node without a cluster says so. If the token may not read HA status, that is said and the rest still shown.',
    input: {},
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'proxmox' && /^(pve-cluster:|ha:|ha-lrm:|ha-master$)/.test(a.subject) ? {} : undefined),
    run: (_input, signal) =>
      guarded(async () => {
        const status = await reader.clusterStatus(signal);
        const cluster = status.find((e) => e.type === 'cluster');
        const nodes = status.filter((e) => e.type === 'node').sort((a, b) => a.name.localeCompare(b.name));
        const [ha, versions] = await Promise.all([
          reader.haStatus(signal).catch((e: unknown) => {
            if (signal.aborted || !(e instanceof ApiError)) throw e;
            return e.message;
          }),
          Promise.all(
            nodes.map((n): Promise<NodeVersion> | NodeVersion =>
              n.online
                ? reader.nodeStatus(n.name, signal).then(
                    (s) => ({ pveversion: pveVersion(s.pveversion), kernel: kernel(s.kversion) }),
                    (e: unknown) => {
                      if (signal.aborted) throw e;
                      return { version_error: (e as Error).message };
                    },
                  )
                : {},
            ),
          ),
        ]);
        const rows = nodes.map((n, i) => ({ name: n.name, online: n.online ?? false, ...(n.ip ? { ip: n.ip } : {}), ...versions[i] }));
        const online = rows.filter((r) => r.online).length;
        const head = cluster
          ? `cluster ${cluster.name}: ${cluster.quorate ? 'quorate' : 'NOT QUORATE'}, ${online}/${cluster.nodes ?? nodes.length} nodes online`
          : `a single Proxmox VE node (no cluster): ${rows.map((r) => r.name).join(', ')}`;
        const distinct = new Set(rows.flatMap((r) => (r.pveversion ? [r.pveversion] : [])));
        const lines = rows.map((r) =>
          r.version_error
            ? `${r.name} online; status not read: ${r.version_error}`
            : `${r.name} ${r.online ? 'online' : 'OFFLINE'}${r.pveversion ? `, pve-manager ${r.pveversion}, kernel ${r.kernel}` : ''}${r.ip ? ` (${r.ip})` : ''}`,
        );
        if (distinct.size > 1) lines.push(`nodes run different pve-manager versions: ${[...distinct].join(', ')}`);
        const haPart = typeof ha === 'string' ? { data: { error: ha }, lines: [`HA status not read: ${ha}`] } : haSummary(ha);
        lines.push(...haPart.lines);
        return ok(
          { ...(cluster ? { cluster: cluster.name, quorate: cluster.quorate ?? false, nodes_expected: cluster.nodes ?? nodes.length } : {}), nodes_online: online, nodes: rows, ha: haPart.data },
          [head, ...lines].join('\n'),
        );
      }),
  });
}

function haSummary(ha: HaEntry[]): { data: Record<string, unknown>; lines: string[] } {
  const services = ha.filter((e) => e.type === 'service');
  const master = ha.find((e) => e.type === 'master');
  const lrms = ha.filter((e) => e.type === 'lrm');
  const byState: Record<string, number> = {};
  for (const s of services) byState[s.state ?? '?'] = (byState[s.state ?? '?'] ?? 0) + 1;
  const odd = services.filter((s) => s.state !== 'started' && s.state !== 'stopped' && s.state !== 'ignored').slice(0, 20);
  const lines =
    services.length === 0 && !master && lrms.length === 0
      ? ['HA: not in use (no HA-managed services)']
      : [
          `HA master: ${master ? master.status.trim() : 'none'}`,
          ...lrms.map((l) => `HA LRM ${l.node || '(node unknown)'}: ${l.status.trim()}`),
          `HA services: ${services.length}${services.length ? ` (${Object.entries(byState).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}`,
          ...odd.map((s) => `  ${s.sid} ${s.state} on ${s.node ?? '?'}${s.request_state ? `, requested ${s.request_state}` : ''}`),
        ];
  const data = {
    master: master?.status.trim() ?? '',
    lrms: lrms.map((l) => ({ node: l.node ?? '', status: l.status.trim() })),
    services: services.length,
    by_state: byState,
    not_started: odd.map((s) => ({ sid: s.sid, state: s.state, node: s.node ?? '' })),
  };
  return { data, lines };
}

function guestsTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_guests',
    title: 'Proxmox VMs and containers',
    description:
      'Every VM (qemu) and container (lxc) of the Proxmox VE cluster, one line each: subject (vm:<vmid> or ct:<vmid>), name, node, ' +
      'status (running, stopped, paused), CPU and memory use, uptime, tags, HA state, a lock (backup, migrate …) and templates. ' +
      `Call it first to find a guest or see what runs where; filter by node, state, tag or type. At most ${MAX_GUESTS} are listed, ` +
      "the rest counted; narrow the filter for more. proxmox_guest shows one guest's config and backups. An empty result means no guest matches the filter.",
    input: {
      node: nodeName.optional().describe('only guests on this node'),
      state: z.enum(['running', 'stopped', 'paused']).optional().describe('only guests in this state'),
      tag: z.string().min(1).max(64).optional().describe('only guests carrying this tag'),
      type: z.enum(['qemu', 'lxc']).optional().describe('qemu = VMs, lxc = containers'),
    },
    annotations: READ_ONLY,
    run: ({ node, state, tag, type }, signal) =>
      guarded(async () => {
        const resources = await reader.resources(signal);
        const nodes = resources.filter((r) => r.type === 'node').map((r) => r.node ?? '');
        if (node && !nodes.includes(node)) return failed(`no node "${node}" in this Proxmox VE cluster (nodes: ${nodes.sort().join(', ') || 'none'}); call proxmox_cluster_status`);
        const guests = resources.filter(isGuest);
        const all = guests
          .filter((g) => (!node || g.node === node) && (!state || g.status === state) && (!type || g.type === type) && (!tag || tagsOf(g).some((t) => t.toLowerCase() === tag.toLowerCase())))
          .sort((a, b) => a.node.localeCompare(b.node) || a.vmid - b.vmid);
        const filter = [node && `on ${node}`, state, type, tag && `tagged ${tag}`].filter(Boolean).join(', ');
        if (all.length === 0) return noData(`no guest${filter ? ` (${filter})` : ''} among the cluster's ${guests.length} guests`);
        const shown = all.slice(0, MAX_GUESTS);
        const rows = shown.map((g) => ({
          subject: subjectOf(g),
          name: g.name ?? '',
          node: g.node,
          status: g.status ?? 'unknown',
          ...(g.status === 'running' && g.cpu !== undefined ? { cpu_pct: Math.round(g.cpu * 1000) / 10 } : {}),
          ...(g.status === 'running' && g.maxmem ? { mem_pct: pct(g.mem ?? 0, g.maxmem) } : {}),
          ...(g.uptime ? { uptime_s: g.uptime } : {}),
          ...(g.tags ? { tags: g.tags } : {}),
          ...(g.hastate ? { ha: g.hastate } : {}),
          ...(g.lock ? { lock: g.lock } : {}),
          ...(g.template ? { template: true } : {}),
        }));
        const lines = rows.map((r) =>
          [`${r.subject} ${r.name} on ${r.node}: ${r.template ? 'template' : r.status}`, r.cpu_pct !== undefined && `CPU ${r.cpu_pct} %`, r.mem_pct !== undefined && `mem ${r.mem_pct} %`, r.uptime_s && `up ${uptime(r.uptime_s)}`, r.tags && `tags ${r.tags}`, r.ha && `HA ${r.ha}`, r.lock && `LOCKED ${r.lock}`]
            .filter(Boolean)
            .join(' · '),
        );
        const count = (s: string) => all.filter((g) => g.status === s && !g.template).length;
        const head = `${all.length} guests${filter ? ` (${filter})` : ''}: ${count('running')} running, ${count('stopped')} stopped${count('paused') ? `, ${count('paused')} paused` : ''}`;
        const more = all.length > shown.length ? `${all.length - shown.length} more not listed; filter by node, state, tag or type` : '';
        return ok({ total: all.length, guests: rows, ...(more ? { note: more } : {}) }, [head, ...lines, ...(more ? [more] : [])].join('\n'));
      }),
  });
}

function guestTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_guest',
    title: 'One Proxmox VM or container',
    description:
      'One guest by vmid: where it runs and its status (CPU, memory, uptime, HA state, lock), its config (name, onboot, tags, ' +
      'cores, memory, disks, network; keys that may hold a secret such as cipassword or sshkeys are withheld and named), and its ' +
      `last ${MAX_RUNS} backup (vzdump) runs Proxmox lists for this vmid with their outcome. Call it for a guest that is stopped but ` +
      'should run, a failed backup, or a locked guest. Only vmids the cluster lists (proxmox_guests).',
    input: { vmid: z.number().int().min(1).max(999_999_999).describe('the guest id, e.g. 100 (from vm:100 or ct:100)') },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      const m = a.source === 'proxmox' ? /^(?:vm|ct|backup):(\d+)$/.exec(a.subject) : null;
      return m ? { vmid: Number(m[1]) } : undefined;
    },
    run: ({ vmid }, signal) =>
      guarded(async () => {
        const resources = await reader.resources(signal);
        const g = resources.filter(isGuest).find((r) => r.vmid === vmid);
        if (!g) return failed(`no guest with vmid ${vmid} in this Proxmox VE cluster (the token sees ${resources.filter(isGuest).length} guests); call proxmox_guests`);
        const kind = g.type as 'qemu' | 'lxc';
        const lines = [
          [`${subjectOf(g)} ${g.name ?? ''} (${kind === 'qemu' ? 'VM' : 'container'}) on ${g.node}: ${g.template ? 'template' : (g.status ?? 'unknown')}`, g.uptime && `up ${uptime(g.uptime)}`, g.status === 'running' && g.cpu !== undefined && `CPU ${Math.round(g.cpu * 1000) / 10} %`, g.maxmem && `mem ${bytes(g.mem ?? 0)} of ${bytes(g.maxmem)}`, g.hastate && `HA ${g.hastate}`, g.lock && `LOCKED ${g.lock}`]
            .filter(Boolean)
            .join(' · '),
        ];
        const data: Record<string, unknown> = { subject: subjectOf(g), vmid, type: kind, node: g.node, name: g.name ?? '', status: g.status ?? 'unknown', ha_state: g.hastate ?? '', lock: g.lock ?? '', template: g.template ?? false, tags: g.tags ?? '' };
        const nodeUp = resources.find((r) => r.type === 'node' && r.node === g.node)?.status !== 'offline';
        if (!nodeUp) {
          lines.push(`its node ${g.node} is offline: config and backups cannot be read`);
          return ok(data, lines.join('\n'));
        }
        const [config, runs] = await Promise.all([
          reader.guestConfig(g.node, kind, vmid, signal).catch(keep(signal)),
          reader.tasks(g.node, { type: 'vzdump', vmid, limit: MAX_RUNS }, signal).catch(keep(signal)),
        ]);
        if (typeof config === 'string') lines.push(`config not read: ${config}`);
        else {
          const withheld = Object.keys(config).filter((k) => SECRET_KEYS.has(k) || SECRET_KEY.test(k));
          const shown = Object.fromEntries(
            Object.entries(config)
              .filter(([k]) => !withheld.includes(k) && k !== 'digest')
              .map(([k, v]) => [k, typeof v === 'string' && v.length > 200 ? `${v.slice(0, 199)}…` : v]),
          );
          data.config = shown;
          data.onboot = config.onboot ?? false;
          if (withheld.length) data.withheld = withheld;
          lines.push(`onboot ${config.onboot ? 'yes' : 'no'}${config.tags ? ` · tags ${config.tags}` : ''}${withheld.length ? ` · withheld (may hold secrets): ${withheld.join(', ')}` : ''}`);
          lines.push(...Object.entries(shown).map(([k, v]) => `  ${k}: ${String(v)}`));
        }
        if (typeof runs === 'string') lines.push(`backups not read: ${runs}`);
        else {
          const last = runs.filter((t) => t.type === 'vzdump').sort((a, b) => b.starttime - a.starttime).slice(0, MAX_RUNS);
          data.backups = last.map((t) => ({ upid: t.upid, started: iso(t.starttime), ...(t.endtime !== undefined ? { ended: iso(t.endtime) } : {}), status: t.status ?? 'running' }));
          lines.push(
            last.length
              ? `last backups on ${g.node}: ${last.map((t) => `${iso(t.starttime)} ${t.status ?? 'running'}`).join('; ')}`
              : `no vzdump run of ${vmid} alone in ${g.node}'s task list; a scheduled backup job backs up several guests in one task (id empty), so call proxmox_tasks with type vzdump to see those and their logs`,
          );
        }
        return ok(data, lines.join('\n'));
      }),
  });
}

/** A failed part of an answer becomes its message, so the other parts are still shown. */
const keep = (signal: AbortSignal) => (e: unknown) => {
  if (signal.aborted || !(e instanceof ApiError)) throw e;
  return e.message;
};

function storageTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_storage',
    title: 'Proxmox storage',
    description:
      'Each storage of one node, or of every online node: its type (dir, zfspool, lvmthin, nfs, pbs …), content (images, rootdir, ' +
      'backup, iso …), whether it is enabled and active, used % and free space. Shared storage (NFS, Ceph, PBS) is shown once. ' +
      'Inactive or nearly full storage comes first. Call it for a full or unavailable storage, or a backup or guest that cannot write.',
    input: { node: nodeName.optional().describe('only this node (default: every online node)') },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      const m = a.source === 'proxmox' ? /^storage:(?:([^/]+)\/)?[^/]+$/.exec(a.subject) : null;
      return m ? (m[1] ? { node: m[1] } : {}) : undefined;
    },
    run: ({ node }, signal) =>
      guarded(async () => {
        let nodes: string[];
        if (node) {
          const known = await knownNode(reader, node, signal);
          if (refused(known)) return known;
          nodes = [node];
        } else nodes = (await reader.resources(signal)).filter((r) => r.type === 'node' && r.node && r.status === 'online').map((r) => r.node!).sort();
        const answers = await Promise.all(nodes.map((n) => reader.storage(n, signal).catch(keep(signal))));
        const seen = new Set<string>();
        const rows: (Storage & { node: string; used_pct?: number })[] = [];
        const errors: string[] = [];
        answers.forEach((a, i) => {
          if (typeof a === 'string') return void errors.push(`${nodes[i]}: ${a}`);
          for (const s of a) {
            if (s.shared && seen.has(s.storage)) continue;
            if (s.shared) seen.add(s.storage);
            rows.push({ ...s, node: nodes[i]!, ...(s.total ? { used_pct: pct(s.used ?? 0, s.total) } : {}) });
          }
        });
        if (rows.length === 0 && errors.length) return failed(`storage not read: ${errors.join('; ')}`);
        if (rows.length === 0) return noData(`no storage on ${nodes.join(', ') || 'any online node'}`);
        const bad = (s: (typeof rows)[number]) => s.enabled === false || s.active === false;
        rows.sort((a, b) => Number(bad(b)) - Number(bad(a)) || (b.used_pct ?? -1) - (a.used_pct ?? -1));
        const out = rows.map((s) => ({
          storage: s.storage, node: s.shared ? 'shared' : s.node, type: s.type, content: s.content, enabled: s.enabled ?? true, active: s.active ?? false,
          ...(s.total ? { used_pct: s.used_pct, total_bytes: s.total, avail_bytes: s.avail ?? s.total - (s.used ?? 0) } : {}),
        }));
        const lines = out.map((s) =>
          `${s.storage} (${s.type}) ${s.node === 'shared' ? 'shared' : `on ${s.node}`}: ${!s.enabled ? 'DISABLED' : !s.active ? 'INACTIVE' : 'active'}` +
          `${s.total_bytes ? `, ${s.used_pct} % used, ${bytes(s.avail_bytes!)} free of ${bytes(s.total_bytes)}` : ''} · ${s.content || 'no content'}`,
        );
        return ok({ storage: out, ...(errors.length ? { errors } : {}) }, [`${out.length} storages`, ...lines, ...errors.map((e) => `not read: ${e}`)].join('\n'));
      }),
  });
}

export function proxmoxTools(reader: ProxmoxReader): ToolSpec[] {
  const [status, disks, tasks] = nodeTools(reader);
  return [clusterStatusTool(reader), guestsTool(reader), guestTool(reader), status!, storageTool(reader), disks!, tasks!];
}
