/**
 * The firewall's gateways (dpinger's view), memory, filesystems and its own notices as
 * observations. Subjects carry the firewall's host name where they would otherwise be the same
 * on every firewall: gateway:<name> is the lab's name for an uplink, the rest are per firewall.
 */
import type { Observation } from '../types.ts';
import type { DiskDevice, Gateway } from './read.ts';

const round1 = (n: number) => Math.round(n * 10) / 10;

/** "11.1 ms", "0.0 %" → 11.1, 0; "~" (not monitored) or anything else → undefined. */
function measure(v: string | undefined, unit: 'ms' | '%'): number | undefined {
  const m = new RegExp(`^\\s*(-?\\d+(?:\\.\\d+)?)\\s*${unit}\\s*$`).exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*%?\s*$/.test(v) ? parseFloat(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function gatewayObservation(g: Gateway, host: string, at: string): Observation {
  const loss = measure(g.loss, '%');
  const delay = measure(g.delay, 'ms');
  const stddev = measure(g.stddev, 'ms');
  // "~" in the monitor and measurements: monitoring is off for it (OPNsense then counts it online)
  const monitored = g.monitor !== undefined ? g.monitor !== '~' && g.monitor !== '' : loss !== undefined || delay !== undefined;
  const values: Record<string, unknown> = {
    name: g.name,
    address: g.address && g.address !== '~' ? g.address : '',
    status: g.status,
    status_text: g.status_translated ?? g.status,
    monitored,
    monitor: monitored ? (g.monitor ?? '') : '',
    ...(loss !== undefined ? { loss_pct: loss } : {}),
    ...(delay !== undefined ? { delay_ms: delay } : {}),
    ...(stddev !== undefined ? { stddev_ms: stddev } : {}),
  };
  const measured = monitored ? ` · ${delay ?? '?'} ms, ${loss ?? '?'} % loss` : ' · not monitored';
  return { source: 'opnsense', kind: 'gateway', subject: `gateway:${g.name}`, host, at, values, summary: `gateway ${g.name} · ${values.status_text as string}${measured}`, trend: 'delay_ms' };
}

/** Memory as the dashboard counts it, and without ZFS's ARC (a cache that gives memory back). */
export function systemObservation(memory: { total?: unknown; used?: unknown; arc?: unknown } | undefined, host: string, at: string): Observation {
  const total = num(memory?.total);
  const used = num(memory?.used); // "N/A" when OPNsense could not read it
  const arc = num(memory?.arc) ?? 0;
  const values: Record<string, unknown> = { host };
  if (total && used !== undefined) {
    Object.assign(values, { mem_total_bytes: total, mem_used_bytes: used, arc_bytes: arc, mem_used_pct: round1(((used - arc) / total) * 100), mem_used_pct_with_arc: round1((used / total) * 100) });
  }
  const mem = values.mem_used_pct !== undefined ? `memory ${String(values.mem_used_pct)} % used${arc ? ` (+ ${Math.round(arc / 2 ** 20)} MiB ARC)` : ''}` : 'memory unknown';
  return { source: 'opnsense', kind: 'system', subject: `opnsense:${host}`, host, at, values, summary: `${host} · ${mem}`, trend: 'mem_used_pct' };
}

export function filesystemObservations(devices: DiskDevice[], host: string, at: string): Observation[] {
  return devices.flatMap((d) => {
    const used = num(d.used_pct);
    if (used === undefined) return [];
    const values = { mount: d.mountpoint, device: d.device, type: d.type ?? '', used_pct: used };
    return [{ source: 'opnsense', kind: 'filesystem', subject: `opnsense-fs:${host}:${d.mountpoint}`, host, at, values, summary: `${d.mountpoint} on ${host} · ${used} % used`, trend: 'used_pct' }];
  });
}

const LEVELS: Record<number, string> = { [-1]: 'Error', 0: 'Warning', 1: 'Notice', 2: 'OK' };

/**
 * The system's own notices (core/system/status): one observation per subsystem, OK ones too, so
 * a notice that is dismissed or cleared resolves. Current OPNsense answers subsystems at the top
 * level (plus "System", the summary); older versions wrapped them in `metadata`.
 */
export function noticeObservations(raw: Record<string, unknown>, host: string, at: string): Observation[] {
  const meta = raw.metadata as { subsystems?: unknown } | undefined;
  const entries: [string, unknown][] = meta && typeof meta === 'object' ? Object.entries((meta.subsystems as Record<string, unknown> | undefined) ?? {}) : Object.entries(raw);
  const out: Observation[] = [];
  for (const [key, v] of entries) {
    if (key === 'System' || !v || typeof v !== 'object') continue;
    const e = v as Record<string, unknown>;
    const code = typeof e.statusCode === 'number' ? e.statusCode : undefined;
    if (code === undefined) continue;
    const name = typeof e.title === 'string' && e.title ? e.title : key;
    const level = typeof e.status === 'string' ? e.status : (LEVELS[code] ?? String(code));
    const message = typeof e.message === 'string' ? e.message.trim() : '';
    out.push({
      source: 'opnsense',
      kind: 'notice',
      subject: `opnsense-notice:${host}/${key}`,
      host,
      at,
      values: { subsystem: key, title: name, level, status_code: code, message, age: typeof e.age === 'string' ? e.age : '', log: typeof e.logLocation === 'string' ? e.logLocation : '' },
      summary: `${name}: ${code < 2 ? `${level}: ${message}` : 'OK'}`,
    });
  }
  return out;
}
