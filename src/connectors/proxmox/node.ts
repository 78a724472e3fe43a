/** One node's status in the numbers rules and tools read (percentages, load per CPU, versions without their noise). */
import type { NodeStatus } from './read.ts';

export const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);
/** "pve-manager/7.4-16/0f39f621" → "7.4-16"; "Linux 5.15.108-1-pve #1 SMP …" → "5.15.108-1-pve" */
export const pveVersion = (s: string | undefined) => /pve-manager\/([^/\s]+)/.exec(s ?? '')?.[1] ?? s ?? '';
export const kernel = (s: string | undefined) => /^Linux (\S+)/.exec(s ?? '')?.[1] ?? s ?? '';

export function nodeValues(node: string, s: NodeStatus): Record<string, unknown> {
  const v: Record<string, unknown> = { node, online: true, cpu_pct: Math.round(s.cpu * 1000) / 10, mem_used_pct: pct(s.memory.used, s.memory.total), mem_total_bytes: s.memory.total };
  if (s.wait !== undefined) v.iowait_pct = Math.round(s.wait * 1000) / 10;
  const [l1, l5, l15] = s.loadavg ?? [];
  if (l1 !== undefined) Object.assign(v, { load1: l1, load5: l5, load15: l15 });
  const cpus = s.cpuinfo?.cpus;
  if (cpus && l5 !== undefined) Object.assign(v, { cpus, load_per_cpu: Math.round((l5 / cpus) * 100) / 100 });
  if (s.swap && s.swap.total > 0) v.swap_used_pct = pct(s.swap.used, s.swap.total);
  if (s.rootfs) Object.assign(v, { rootfs_used_pct: pct(s.rootfs.used, s.rootfs.total), rootfs_avail_bytes: s.rootfs.avail ?? s.rootfs.free ?? s.rootfs.total - s.rootfs.used });
  if (s.uptime !== undefined) v.uptime_s = s.uptime;
  v.pveversion = pveVersion(s.pveversion);
  v.kversion = kernel(s.kversion);
  return v;
}

