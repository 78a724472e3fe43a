/**
 * Proxmox VE tools about one node: its status, its drives and its tasks; and the checks every
 * Proxmox tool shares. A name the model gives (node, UPID) is used in a URL only after the
 * cluster itself listed it: a wrong name is refused with the right ones, and nothing is sent.
 */
import * as z from 'zod';
import { ApiError, apiGuarded as guarded } from '../api-client.ts';
import { driveObservation } from '../smart/collect.ts';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolResult, type ToolSpec } from '../../tools/types.ts';
import { driveFromPve, type PveSmart } from './disks.ts';
import { nodeValues, pct } from './node.ts';
import type { ProxmoxReader, Resource, Task } from './read.ts';
import { CONSOLE_TASKS } from './tasks.ts';
import { isOkStatus } from '../task-outcomes.ts';

export const nodeName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'a node name as proxmox_cluster_status lists it, such as "pve1"');

/** An ApiError's message already says what failed and what to change: that is the tool's answer. */

/** The cluster's resources and the node asked for, or the refusal naming the nodes there are. */
export async function knownNode(reader: ProxmoxReader, node: string, signal: AbortSignal): Promise<{ resources: Resource[]; entry: Resource } | ToolResult> {
  const resources = await reader.resources(signal);
  const nodes = resources.filter((r) => r.type === 'node' && r.node);
  const entry = nodes.find((r) => r.node === node);
  if (!entry) return failed(`no node "${node}" in this Proxmox VE cluster (nodes: ${nodes.map((r) => r.node).sort().join(', ') || 'none visible to the token'}); call proxmox_cluster_status`);
  if (entry.status && entry.status !== 'online') return noData(`node ${node} is ${entry.status} according to the cluster: nothing can be read from it now; proxmox_cluster_status shows quorum and the other nodes`);
  return { resources, entry };
}
export const refused = (x: object): x is ToolResult => 'status' in x && 'text' in x;

/** 1536 → "1.5 KiB" */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
/** 874350 → "10d 2h" */
export function uptime(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return d > 0 ? `${d}d ${h}h` : `${h}h ${Math.floor((s % 3600) / 60)}m`;
}
export const iso = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

const failedTask = (t: Task) => t.endtime !== undefined && t.status !== undefined && !isOkStatus(t.status);
const MAX_LOGS = 5;
const LOG_LINES = 20;
const MAX_DISKS = 40;
/** The drive values worth a model's reading (the rest of driveObservation's are for rules): rows stay small. */
const DRIVE_KEYS = ['state', 'error', 'serial', 'model', 'passed', 'temperature_c', 'power_on_hours', 'reallocated_sectors', 'pending_sectors', 'offline_uncorrectable', 'reported_uncorrectable', 'udma_crc_errors', 'wear_pct_used', 'percentage_used', 'media_errors', 'critical_warning', 'available_spare', 'grown_defects', 'uncorrected_errors', 'attributes_failing_now', 'attributes_failed_past'];

function nodeStatusTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_node_status',
    title: "A Proxmox node's load and health",
    description:
      'One Proxmox VE node right now: CPU use and IO wait (%), load average (1, 5, 15 min) against its CPU count, memory and swap ' +
      'use, the root filesystem (used and free), pve-manager and kernel versions, and uptime. Call it when a node is slow, ' +
      'full or suspected of a reboot (short uptime). Only nodes the cluster lists; an offline node cannot be read.',
    input: { node: nodeName.describe('the node, as proxmox_cluster_status lists it') },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'proxmox' && a.subject.startsWith('pve-node:') ? { node: a.subject.slice('pve-node:'.length) } : undefined),
    run: ({ node }, signal) =>
      guarded(async () => {
        const known = await knownNode(reader, node, signal);
        if (refused(known)) return known;
        const s = await reader.nodeStatus(node, signal);
        const [l1, l5, l15] = s.loadavg ?? [];
        const cpus = s.cpuinfo?.cpus;
        const { online: _online, kversion, ...values } = nodeValues(node, s);
        const data: Record<string, unknown> = { ...values, kernel: kversion, ...(s.swap && s.swap.total > 0 ? { swap_total_bytes: s.swap.total } : {}) };
        const lines = [
          `${node}: CPU ${data.cpu_pct} %${s.wait !== undefined ? `, IO wait ${data.iowait_pct} %` : ''}${l1 !== undefined ? `, load ${l1} ${l5} ${l15}` : ''}${cpus ? ` on ${cpus} CPUs` : ''}`,
          `memory ${data.mem_used_pct} % of ${bytes(s.memory.total)} used; ${s.swap && s.swap.total > 0 ? `swap ${data.swap_used_pct} % of ${bytes(s.swap.total)}` : 'no swap'}`,
          s.rootfs ? `root filesystem ${data.rootfs_used_pct} % of ${bytes(s.rootfs.total)} used, ${bytes(data.rootfs_avail_bytes as number)} free` : 'root filesystem not reported',
          `pve-manager ${data.pveversion}, kernel ${data.kernel}${s.uptime !== undefined ? `, up ${uptime(s.uptime)}` : ''}`,
        ];
        return ok(data, lines.join('\n'));
      }),
  });
}

function disksTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_disks',
    title: "A Proxmox node's drives",
    description:
      "The drives of one Proxmox VE node as Proxmox sees them: device, model, serial (the subject disk:<serial>), type (hdd, ssd, nvme), " +
      "size, what uses it (ZFS, LVM, a Ceph OSD, mounted) and the SMART verdict and life left Proxmox last knew. By default no disk " +
      "is touched. With smart: true each drive's SMART attributes are read too (temperature, reallocated/pending sectors, NVMe media " +
      "errors and wear): Proxmox runs smartctl without -n standby, so smart: true WAKES SLEEPING HDDs and takes a few seconds per " +
      `drive; ask for it only when a drive's health is the question. Call it for a drive anomaly or to see which disks back a pool. At most ${MAX_DISKS} drives are listed. An empty list means Proxmox found no disks.`,
    input: {
      node: nodeName.describe('the node, as proxmox_cluster_status lists it'),
      smart: z.boolean().default(false).describe("also read each drive's SMART data (wakes sleeping HDDs)"),
    },
    annotations: READ_ONLY,
    run: ({ node, smart }, signal) =>
      guarded(async () => {
        const known = await knownNode(reader, node, signal);
        if (refused(known)) return known;
        const all = await reader.disks(node, signal);
        if (all.length === 0) return noData(`Proxmox lists no disks on ${node}`);
        const disks = all.slice(0, MAX_DISKS);
        const at = new Date().toISOString();
        const rows: Record<string, unknown>[] = [];
        const lines: string[] = [];
        for (const d of disks) {
          let read: PveSmart | undefined;
          let smartError = '';
          // the devpath comes from the node's own list; nothing the caller typed reaches this URL
          if (smart)
            read = await reader.smart(node, d.devpath, signal).catch((e: unknown) => {
              if (signal.aborted) throw e;
              smartError = (e as Error).message;
              return undefined;
            });
          const health = driveFromPve(node, d, read);
          const v = driveObservation(health, node, at).values;
          const kept = Object.fromEntries(DRIVE_KEYS.flatMap((k) => (v[k] === undefined || v[k] === '' ? [] : [[k, v[k]]])));
          const row = { subject: health.subject, device: d.devpath, disk_type: d.type ?? '', used_by: d.used ?? '', ...(d.size !== undefined ? { size_bytes: d.size } : {}), ...kept, ...(typeof d.wearout === 'number' ? { life_left_pct: d.wearout } : {}), ...(smartError ? { smart_error: smartError } : {}) };
          rows.push(row);
          const facts = [
            d.used ? `used by ${d.used}` : 'unused',
            health.smartPassed === undefined ? `health ${d.health ?? 'unknown'}` : health.smartPassed ? 'SMART passed' : 'SMART FAILING',
            typeof d.wearout === 'number' ? `life left ${d.wearout} %` : '',
            v.temperature_c !== undefined ? `${v.temperature_c}°C` : '',
            v.reallocated_sectors !== undefined ? `reallocated ${v.reallocated_sectors}` : '',
            v.pending_sectors !== undefined ? `pending ${v.pending_sectors}` : '',
            v.media_errors !== undefined ? `media errors ${v.media_errors}` : '',
            v.attributes_failing_now ? `failing now: ${v.attributes_failing_now}` : '',
            health.state === 'error' ? (health.error ?? '') : '',
            smartError ? `SMART not read: ${smartError}` : '',
          ].filter(Boolean);
          lines.push(`${health.subject} ${d.devpath} ${d.type ?? '?'} ${d.model ?? ''} ${d.size !== undefined ? bytes(d.size) : ''} · ${facts.join(' · ')}`.replace(/ +/g, ' '));
        }
        const more = all.length > disks.length ? `${all.length - disks.length} more drives not listed` : '';
        const head = `${all.length} drives on ${node}${smart ? ', SMART read' : ' (SMART not read: call again with smart: true, which wakes sleeping HDDs)'}`;
        return ok({ node, total: all.length, smart_read: smart, disks: rows, ...(more ? { note: more } : {}) }, [head, ...lines, ...(more ? [more] : [])].join('\n'));
      }),
  });
}

function tasksTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'proxmox_tasks',
    title: "A Proxmox node's tasks",
    description:
      'The tasks one Proxmox VE node ran (backups = vzdump, migrations = qmigrate/vzmigrate, guest start/stop, apt updates, ' +
      'replication, …), newest first: type, guest id, user, start and end, and PVE\'s outcome ("OK", "WARNINGS: n", or the error ' +
      `text). By default only failed tasks of the last 24 h (console sessions left out); for the first ${MAX_LOGS} failed ones the last ` +
      `${LOG_LINES} lines of their log say why. Call it for a failed backup, migration or update, or to see what ran before a problem. since_hours goes back at most 720 (30 days); limit is at most 50. An empty result ` +
      'means no task of that kind ran (or failed) on that node in that time.',
    input: {
      node: nodeName.describe('the node the task ran on'),
      failed_only: z.boolean().default(true).describe('only tasks that ended in an error (default true)'),
      type: z.string().regex(/^[A-Za-z][\w-]{0,39}$/, 'a task type such as vzdump, qmigrate, aptupdate').optional().describe('only tasks of this type: vzdump, qmigrate, vzmigrate, qmstart, aptupdate, imgdel, …'),
      since_hours: z.number().int().min(1).max(720).default(24).describe('how far back, in hours (default 24, at most 720)'),
      limit: z.number().int().min(1).max(50).default(20).describe('most tasks listed (default 20, at most 50)'),
    },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      const m = a.source === 'proxmox' ? /^pve-task:([^/]+)\/([^/]+)\//.exec(a.subject) : null;
      return m ? { node: m[1], type: m[2], failed_only: true, since_hours: 48 } : undefined;
    },
    run: ({ node, failed_only, type, since_hours, limit }, signal) =>
      guarded(async () => {
        const known = await knownNode(reader, node, signal);
        if (refused(known)) return known;
        const since = Math.floor(Date.now() / 1000) - since_hours * 3600;
        const listed = await reader.tasks(node, { since, errors: failed_only, type, limit }, signal);
        let tasks = [...listed].sort((a, b) => b.starttime - a.starttime);
        let consoles = 0;
        if (failed_only) {
          tasks = tasks.filter(failedTask);
          if (!type) consoles = tasks.length - (tasks = tasks.filter((t) => !CONSOLE_TASKS.has(t.type))).length;
        }
        const what = `${failed_only ? 'failed ' : ''}${type ? `${type} ` : ''}tasks on ${node} in the last ${since_hours} h`;
        if (tasks.length === 0) return noData(`no ${what}${consoles ? ` (${consoles} closed console sessions left out)` : ''}`);
        const shown = tasks.slice(0, limit);
        let logsLeft = MAX_LOGS;
        const rows = [];
        for (const t of shown) {
          const row: Record<string, unknown> = { upid: t.upid, type: t.type, id: t.id, user: t.user ?? '', started: iso(t.starttime), ...(t.endtime !== undefined ? { ended: iso(t.endtime) } : { running: true }), status: t.status ?? 'running' };
          if (failedTask(t) && logsLeft > 0) {
            logsLeft--;
            // a UPID names the node that ran it; one naming another node is not sent to this one
            const owner = /^UPID:([^:]+):/.exec(t.upid)?.[1];
            if (owner !== node) row.log_error = `not read: its UPID names node ${owner ?? '(none)'}, not ${node}`;
            else
              await reader.taskLog(node, t.upid, LOG_LINES, signal).then(
                (log) => void (row.log_tail = log),
                (e: unknown) => {
                  if (signal.aborted) throw e;
                  row.log_error = `not read: ${(e as Error).message}`;
                },
              );
          }
          rows.push(row);
        }
        const lines = rows.flatMap((r) => [
          `${r.started} ${r.type}${r.id ? ` ${r.id}` : ''} by ${r.user}: ${r.running ? 'RUNNING' : r.status}${r.ended ? ` (ended ${r.ended})` : ''}`,
          ...((r.log_tail as string[] | undefined) ?? []).map((l) => `    ${l}`),
          ...(r.log_error ? [`    log ${r.log_error}`] : []),
        ]);
        const notes = [
          listed.length >= limit ? `the list stops at ${limit}: there may be more; narrow it with type or since_hours` : '',
          consoles ? `${consoles} closed console sessions left out` : '',
        ].filter(Boolean);
        return ok({ node, since: iso(since), tasks: rows, ...(notes.length ? { notes } : {}) }, [`${shown.length} ${what}`, ...lines, ...notes].join('\n'));
      }),
  });
}

export function nodeTools(reader: ProxmoxReader): ToolSpec[] {
  return [nodeStatusTool(reader), disksTool(reader), tasksTool(reader)];
}
