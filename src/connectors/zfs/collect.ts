/**
 * Pools → observations: one per pool (`pool:<name>`) and one per leaf device
 * (`vdev:<pool>/<name>`), all grouped under the pool, so a failing disk and the pool it degrades
 * become one incident. Scrub age is computed here (days since the last finished scrub).
 */
import type { Observation } from '../types.ts';
import type { Collector } from '../types.ts';
import { zfsMessage } from './messages.ts';
import { ZfsReader, type PoolReading } from './read.ts';
import { ROLE, redundancyOf } from './redundancy.ts';
import type { Vdev, VdevGroup } from './types.ts';

interface Leaf {
  vdev: Vdev;
  group: VdevGroup;
  parent?: string;
}

function leaves(vdevs: Vdev[], group: VdevGroup, parent?: string): Leaf[] {
  return vdevs.flatMap((v) => (v.children.length ? leaves(v.children, group, v.name) : [{ vdev: v, group, ...(parent ? { parent } : {}) }]));
}

const DAY_MS = 86_400_000;

/**
 * The drive serial inside a /dev/disk/by-id name (ata-ST8000VN004-2M2101_WSD49ZDC-part1 →
 * WSD49ZDC), which is how SMART names the same drive (disk:<serial>). wwn-… names hold none.
 */
export function serialFromById(name: string): string | undefined {
  const base = name.split('/').pop() ?? '';
  const m = /^(?:ata|nvme|scsi|usb|sata)-.+_([^_]+?)(?:-part\d+)?$/.exec(base);
  return m?.[1];
}

export function poolObservations(reading: PoolReading, host: string, now = new Date()): Observation[] {
  const { health: p, usage: u } = reading;
  const at = now.toISOString();
  const all = Object.entries(p.groups).flatMap(([g, vs]) => leaves(vs ?? [], g as VdevGroup));
  const pool = `pool:${p.name}`;
  const lastScrubEnd = p.scan.kind === 'scrub' && p.scan.state === 'finished' ? p.scan.endedAt : undefined;
  const msg = zfsMessage(p.msgid);
  const r = redundancyOf(p);
  // Suspended: the SUSPENDED state (JSON form), the HC/MM message ids, or zpool's own words in the errors line.
  const suspended = p.state === 'SUSPENDED' || p.msgid === 'ZFS-8000-HC' || p.msgid === 'ZFS-8000-MM' || /suspended/.test(p.errors?.unavailableBecause ?? '');
  const values: Record<string, unknown> = {
    name: p.name,
    state: p.state,
    // zpool's own diagnosis, verbatim, and what its message id means
    status: p.status ?? '',
    action: p.action ?? '',
    see: p.see ?? '',
    msgid: p.msgid ?? '',
    msg_meaning: msg?.meaning ?? '',
    msg_action: msg?.action ?? '',
    suspended,
    data_at_risk: r.atRisk,
    risk: r.risk,
    shared_cause: r.sharedCause,
    aux_devices: r.auxDevices,
    scan_kind: p.scan.kind,
    scan_state: p.scan.state,
    scan_text: p.scan.text ?? '',
    resilvering: p.scan.kind === 'resilver' && p.scan.state === 'running',
    scrub_running: p.scan.kind === 'scrub' && p.scan.state === 'running',
    read_errors: p.counters?.read ?? 0,
    write_errors: p.counters?.write ?? 0,
    checksum_errors: p.counters?.checksum ?? 0,
    vdev_errors: all.reduce((n, l) => n + (l.vdev.counters ? l.vdev.counters.read + l.vdev.counters.write + l.vdev.counters.checksum : 0), 0),
    unhealthy_devices: all
      .filter((l) => !['ONLINE', 'HEALTHY', 'AVAIL', 'INUSE'].includes(l.vdev.state))
      .map((l) => `${l.vdev.name} ${l.vdev.state}`)
      .join(', '),
    // only what zpool printed: a count, a file list, or that the list was unavailable and why
    data_errors: p.errors?.dataErrors ?? 0,
    errors_unavailable: p.errors?.listUnavailable ? p.errors.unavailableBecause ?? 'unavailable' : '',
    permanent_error_files: p.errors?.permanentFiles.length ?? 0,
    permanent_errors: (p.errors?.permanentFiles ?? []).slice(0, 20).join(', '),
  };
  if (p.scan.kind === 'scrub' && p.scan.state === 'finished' && p.scan.errors !== undefined) values.last_scrub_errors = p.scan.errors;
  if (lastScrubEnd) values.scrub_age_days = Math.round(((now.getTime() - Date.parse(lastScrubEnd)) / DAY_MS) * 10) / 10;
  else values.never_scrubbed = p.scan.kind === 'none';
  if (u) {
    if (u.capacityPct !== undefined) values.capacity_pct = u.capacityPct;
    if (u.fragmentationPct !== undefined) values.fragmentation_pct = u.fragmentationPct;
    if (u.sizeBytes !== undefined) values.size_bytes = u.sizeBytes;
    if (u.allocBytes !== undefined) values.alloc_bytes = u.allocBytes;
    if (u.freeBytes !== undefined) values.free_bytes = u.freeBytes;
  }
  const scrub = typeof values.scrub_age_days === 'number' ? `scrubbed ${Math.round(values.scrub_age_days)} days ago` : p.scan.kind === 'none' ? 'never scrubbed' : p.scan.text ?? '';
  const summary = [p.state, suspended ? 'pool I/O is currently suspended' : '', u?.capacityPct !== undefined ? `${u.capacityPct} % full` : '', scrub, values.unhealthy_devices ? `unhealthy: ${values.unhealthy_devices}` : '']
    .filter(Boolean)
    .join(' · ');
  const out: Observation[] = [{ source: 'zfs', kind: 'pool', subject: pool, host, at, values, group: pool, summary, trend: 'capacity_pct' }];
  for (const l of all) {
    const v = l.vdev;
    const serial = serialFromById(v.name) ?? (v.wasPath ? serialFromById(v.wasPath) : undefined);
    out.push({
      source: 'zfs',
      kind: 'vdev',
      subject: `vdev:${p.name}/${v.name}`,
      host,
      at,
      group: pool,
      ...(serial ? { aliases: [`disk:${serial}`] } : {}),
      values: {
        pool: p.name,
        name: v.name,
        device_kind: v.kind,
        class: l.group,
        role: ROLE[l.group],
        // a data device with nothing behind it (single-disk pool, stripe): its failure is data loss
        no_redundancy: l.group === 'data' && !l.parent && r.unprotected.has(v.name),
        parent: l.parent ?? '',
        state: v.state,
        note: v.note ?? '',
        was_path: v.wasPath ?? '',
        resilvering: v.resilvering ?? false,
        read_errors: v.counters?.read ?? 0,
        write_errors: v.counters?.write ?? 0,
        checksum_errors: v.counters?.checksum ?? 0,
      },
    });
  }
  return out;
}

export function zfsCollector(opts: { host: string; reader?: ZfsReader }): Collector {
  const reader = opts.reader ?? new ZfsReader();
  return {
    name: 'zfs',
    collect: async (signal) => {
      const { readings, listError } = await reader.readAll(signal);
      const out = readings.flatMap((r) => poolObservations(r, opts.host));
      // `zpool list` on its own: its failure is reported as a collector problem (rule
      // labwatch-collector-failing) while the pools from `zpool status` stay visible.
      out.push({
        source: 'zfs',
        kind: 'collector',
        subject: 'collector:zfs/zpool-list',
        host: opts.host,
        at: new Date().toISOString(),
        values: { ok: listError === undefined, error: listError ?? '', observations: readings.length },
      });
      return out;
    },
  };
}
