/**
 * The host, through systeminformation: filesystems, memory, load, CPU temperature where the
 * hardware exposes it, and network interfaces with their error and drop counters. One reader,
 * shared by the collector and (later) the MCP tools.
 */
import { loadavg, cpus } from 'node:os';
import si from 'systeminformation';

export interface FilesystemUsage {
  mount: string;
  device: string;
  type: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  usedPct: number;
  readOnly: boolean;
}

export interface InterfaceState {
  name: string;
  state: string;
  mtu?: number;
  speedMbps?: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  virtual: boolean;
}

export interface HostState {
  filesystems: FilesystemUsage[];
  memory: { totalBytes: number; availableBytes: number; usedPct: number; swapTotalBytes: number; swapUsedPct: number };
  cpu: { cores: number; load1: number; load5: number; load15: number; temperatureC?: number };
  interfaces: InterfaceState[];
}

/** Pseudo and container filesystems that say nothing about the lab's storage. */
const SKIP_FS = /^(tmpfs|devtmpfs|overlay|squashfs|proc|sysfs|cgroup2?|ramfs|efivarfs|nsfs|fuse\..*)$/;

export async function readHost(): Promise<HostState> {
  const [fs, mem, temp, ifaces, stats] = await Promise.all([si.fsSize(), si.mem(), si.cpuTemperature(), si.networkInterfaces(), si.networkStats('*')]);
  const byName = new Map((Array.isArray(ifaces) ? ifaces : [ifaces]).map((i) => [i.iface, i]));
  const [l1, l5, l15] = loadavg();
  return {
    filesystems: fs
      .filter((f) => !SKIP_FS.test(f.type) && f.size > 0)
      .map((f) => ({
        mount: f.mount,
        device: f.fs,
        type: f.type,
        sizeBytes: f.size,
        usedBytes: f.used,
        availableBytes: f.available,
        usedPct: f.use, // as df counts it: used / (used + available), reserved blocks aside
        readOnly: f.rw === false,
      })),
    memory: {
      totalBytes: mem.total,
      availableBytes: mem.available,
      usedPct: Math.round((1 - mem.available / mem.total) * 1000) / 10,
      swapTotalBytes: mem.swaptotal,
      swapUsedPct: mem.swaptotal > 0 ? Math.round((mem.swapused / mem.swaptotal) * 1000) / 10 : 0,
    },
    cpu: { cores: cpus().length, load1: l1!, load5: l5!, load15: l15!, ...(typeof temp.main === 'number' ? { temperatureC: temp.main } : {}) },
    interfaces: stats
      .filter((s) => s.iface !== 'lo')
      .map((s) => {
        const i = byName.get(s.iface);
        return {
          name: s.iface,
          state: s.operstate,
          ...(typeof i?.mtu === 'number' ? { mtu: i.mtu } : {}),
          ...(typeof i?.speed === 'number' && i.speed > 0 ? { speedMbps: i.speed } : {}),
          rxErrors: s.rx_errors,
          txErrors: s.tx_errors,
          rxDropped: s.rx_dropped,
          txDropped: s.tx_dropped,
          virtual: i?.virtual ?? false,
        };
      }),
  };
}
