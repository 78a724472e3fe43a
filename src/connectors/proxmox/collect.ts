/**
 * One poll of a Proxmox VE cluster through any one node: the cluster's quorum and nodes, HA, each
 * node's load and root filesystem, guests that should run, storage, ZFS pools, failed backups and
 * tasks, and the configured network. A node that does not answer is reported once (its
 * `collector:proxmox/<node>` observation) and the other nodes are still read. Drives are read on
 * their own, slower schedule (proxmoxDiskCollector), because Proxmox's SMART read wakes a sleeping HDD.
 */
import { poolObservations } from '../zfs/collect.ts';
import { driveObservation } from '../smart/collect.ts';
import type { Collector, Observation } from '../types.ts';
import { driveFromPve } from './disks.ts';
import { interfaceObservations } from './network.ts';
import { nodeValues } from './node.ts';
import { poolFromPve } from './pools.ts';
import { nodeDown, type HaEntry, type Iface, type ProxmoxReader, type Resource, type Storage } from './read.ts';
import { storageObservations } from './storage.ts';
import { backupObservations, backupRuns, failedTasks, TaskLogs, type GuestRun } from './tasks.ts';

/** Stopped guests' onboot flag, re-read after this long (a config rarely changes). */
const CONFIG_TTL_MS = 30 * 60_000;


/** "8.2.4 on pve1, pve2; 8.1.3 on pve3" */
function versionsText(byNode: Map<string, string>): { text: string; distinct: number } {
  const groups = new Map<string, string[]>();
  for (const [node, v] of byNode) if (v) groups.set(v, [...(groups.get(v) ?? []), node]);
  return { text: [...groups].map(([v, ns]) => `${v} on ${ns.sort().join(', ')}`).join('; '), distinct: groups.size };
}

function haObservations(ha: HaEntry[], cluster: string, at: string): Observation[] {
  const out: Observation[] = [];
  for (const e of ha) {
    if (e.type === 'service' && e.sid)
      out.push({ source: 'proxmox', kind: 'ha_service', subject: `ha:${e.sid}`, host: e.node || cluster, at, values: { sid: e.sid, state: e.state ?? '', crm_state: e.crm_state ?? '', request_state: e.request_state ?? '', node: e.node ?? '' } });
    // an lrm entry without a node is one whose status file could not be read: nothing to judge
    if ((e.type === 'lrm' && e.node) || e.type === 'master') {
      const node = e.node || /^(\S+) \(/.exec(e.status)?.[1] || '';
      const subject = e.type === 'master' ? 'ha-master' : `ha-lrm:${node}`;
      out.push({ source: 'proxmox', kind: 'ha_manager', subject, host: node || cluster, at, values: { node, role: e.type, status: e.status.trim(), dead: /old timestamp - dead\?/.test(e.status) } });
    }
  }
  return out;
}

export function proxmoxCollector(opts: { reader: ProxmoxReader }): Collector {
  const { reader } = opts;
  const logs = new TaskLogs();
  const onboot = new Map<string, { onboot: boolean; at: number }>();
  return {
    name: 'proxmox',
    collect: async (signal) => {
      const now = new Date();
      const at = now.toISOString();
      const [status, resources] = await Promise.all([reader.clusterStatus(signal), reader.resources(signal)]);
      const clusterEntry = status.find((e) => e.type === 'cluster');
      const nodeEntries = status.filter((e) => e.type === 'node');
      const cluster = clusterEntry?.name ?? nodeEntries[0]?.name ?? 'proxmox';
      const out: Observation[] = [];
      const errors = new Map<string, string[]>();
      const note = (node: string, e: unknown) => errors.set(node, [...(errors.get(node) ?? []), (e as Error).message]);
      const down = new Set<string>();

      const ha = await reader.haStatus(signal).catch((e: unknown) => {
        if (signal.aborted) throw e;
        note(cluster, e);
        return [] as HaEntry[];
      });
      out.push(...haObservations(ha, cluster, at));

      const online = nodeEntries.filter((n) => n.online).map((n) => n.name);
      const names = new Map<number, string>();
      for (const r of resources) if (r.vmid !== undefined && r.name) names.set(r.vmid, r.name);

      const versions = new Map<string, string>();
      const kernels = new Map<string, string>();
      const networks = new Map<string, Iface[]>();
      const perNodeStorage = new Map<string, Storage[]>();
      const runs: GuestRun[] = [];
      // Nodes are read side by side; within one, endpoints in turn, stopping at the first sign it is down.
      await Promise.all(
        online.map(async (node) => {
          const step = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
            if (down.has(node)) return undefined;
            try {
              return await read();
            } catch (e) {
              if (signal.aborted) throw e;
              note(node, e);
              if (nodeDown(e)) down.add(node);
              return undefined;
            }
          };
          const s = await step(() => reader.nodeStatus(node, signal));
          if (s) {
            const v = nodeValues(node, s);
            versions.set(node, String(v.pveversion));
            kernels.set(node, String(v.kversion));
            out.push({ source: 'proxmox', kind: 'node', subject: `pve-node:${node}`, host: node, at, values: v, summary: `${node} · CPU ${v.cpu_pct} % · mem ${v.mem_used_pct} % · root ${v.rootfs_used_pct ?? '?'} %`, trend: 'rootfs_used_pct' });
          }
          const storages = await step(() => reader.storage(node, signal));
          if (storages) perNodeStorage.set(node, storages);
          const pools = (await step(() => reader.zfsPools(node, signal))) ?? [];
          for (const row of pools) {
            const detail = await step(() => reader.zfsPool(node, row.name, signal));
            if (detail) out.push(...poolObservations(poolFromPve(detail, row), node, now).map((o) => ({ ...o, source: 'proxmox', reading: 'zfs' })));
          }
          runs.push(...((await step(() => backupRuns(reader, logs, node, now, signal))) ?? []));
          out.push(...((await step(() => failedTasks(reader, logs, node, now, signal))) ?? []));
          const net = await step(() => reader.network(node, signal));
          if (net) networks.set(node, net);
        }),
      );
      out.push(...interfaceObservations(networks, at), ...storageObservations(perNodeStorage, at), ...backupObservations(runs, names, now));
      out.push(...(await guestObservations(reader, resources, onboot, new Set(online), at, signal)));

      for (const n of nodeEntries)
        if (!n.online) out.push({ source: 'proxmox', kind: 'node', subject: `pve-node:${n.name}`, host: n.name, at, values: { node: n.name, online: false }, summary: `${n.name} · OFFLINE` });
      if (clusterEntry) {
        const v = versionsText(versions);
        const k = versionsText(kernels);
        const offline = nodeEntries.filter((n) => !n.online).map((n) => n.name).sort();
        out.push({
          source: 'proxmox',
          kind: 'cluster',
          subject: `pve-cluster:${cluster}`,
          host: cluster,
          at,
          values: {
            name: cluster,
            quorate: clusterEntry.quorate ?? false,
            nodes_expected: clusterEntry.nodes ?? nodeEntries.length,
            nodes_online: online.length,
            offline_nodes: offline.join(', '),
            pve_versions: v.text,
            versions_differ: v.distinct > 1,
            kernels: k.text,
            kernels_differ: k.distinct > 1,
          },
          summary: `cluster ${cluster} · ${clusterEntry.quorate ? 'quorate' : 'NO QUORUM'} · ${online.length}/${clusterEntry.nodes ?? nodeEntries.length} nodes online`,
        });
      }
      // one line per node about what could not be read there (timeouts, 5xx, refused endpoints)
      for (const node of new Set([...online, cluster]))
        out.push({ source: 'proxmox', kind: 'collector', subject: `collector:proxmox/${node}`, host: node, at, values: { ok: !errors.has(node), error: (errors.get(node) ?? []).join('; ') } });
      return out;
    },
  };
}

async function guestObservations(
  reader: ProxmoxReader,
  resources: Resource[],
  onboot: Map<string, { onboot: boolean; at: number }>,
  online: Set<string>,
  at: string,
  signal: AbortSignal,
): Promise<Observation[]> {
  const out: Observation[] = [];
  for (const r of resources) {
    if ((r.type !== 'qemu' && r.type !== 'lxc') || r.vmid === undefined || !r.node) continue;
    const kind = r.type as 'qemu' | 'lxc';
    const subject = `${kind === 'qemu' ? 'vm' : 'ct'}:${r.vmid}`;
    const values: Record<string, unknown> = {
      vmid: r.vmid,
      name: r.name ?? '',
      type: kind,
      node: r.node,
      status: r.status ?? 'unknown',
      ha_state: r.hastate ?? '',
      template: r.template ?? false,
      lock: r.lock ?? '',
      tags: r.tags ?? '',
    };
    // Whether it should run: HA says so, or its onboot flag (read only for stopped guests on answering nodes).
    let boot: boolean | undefined;
    if (r.status === 'stopped' && !r.template && online.has(r.node)) {
      const cached = onboot.get(subject);
      if (cached && Date.now() - cached.at < CONFIG_TTL_MS) boot = cached.onboot;
      else {
        const cfg = await reader.guestConfig(r.node, kind, r.vmid, signal).catch((e: unknown) => {
          if (signal.aborted) throw e;
          return undefined;
        });
        if (cfg) {
          boot = cfg.onboot ?? false;
          onboot.set(subject, { onboot: boot, at: Date.now() });
        }
      }
    }
    if (boot !== undefined) values.onboot = boot;
    values.should_run = r.hastate === 'started' || boot === true;
    out.push({ source: 'proxmox', kind: 'guest', subject, host: r.node, at, values, summary: `${r.name ?? subject} (${subject}) ${r.status ?? 'unknown'} on ${r.node}` });
  }
  return out;
}

/**
 * Every node's drives through the API (disks/list, then disks/smart per drive), as the same
 * `drive` observations the smartctl collector makes, so the SMART rules apply and a drive seen by
 * both is one subject. Proxmox runs smartctl without `-n standby`: `skipHdds` spares spun-down disks.
 */
export function proxmoxDiskCollector(opts: { reader: ProxmoxReader; skipHdds: boolean }): Collector {
  const { reader } = opts;
  return {
    name: 'proxmox-disks',
    collect: async (signal) => {
      const now = new Date();
      const at = now.toISOString();
      const status = await reader.clusterStatus(signal);
      const nodes = status.filter((e) => e.type === 'node' && e.online).map((e) => e.name);
      const out: Observation[] = [];
      await Promise.all(
        nodes.map(async (node) => {
          try {
            const disks = await reader.disks(node, signal);
            for (const d of disks) {
              if (opts.skipHdds && d.type === 'hdd') continue;
              const smart = await reader.smart(node, d.devpath, signal).catch((e: unknown) => {
                if (signal.aborted || nodeDown(e)) throw e;
                return undefined;
              });
              const obs = driveObservation(driveFromPve(node, d, smart), node, at);
              out.push({ ...obs, source: 'proxmox', reading: 'smart', values: { ...obs.values, via: `Proxmox API (${node})` } });
            }
            out.push({ source: 'proxmox', kind: 'collector', subject: `collector:proxmox-disks/${node}`, host: node, at, values: { ok: true, error: '' } });
          } catch (e) {
            if (signal.aborted) throw e;
            out.push({ source: 'proxmox', kind: 'collector', subject: `collector:proxmox-disks/${node}`, host: node, at, values: { ok: false, error: (e as Error).message } });
          }
        }),
      );
      return out;
    },
  };
}
