/**
 * One drive as Proxmox VE reports it → the DriveHealth the local smartctl collector produces, so
 * rules/smart.yaml applies unchanged and a drive read both ways has one subject, `disk:<serial>`.
 *
 * What PVE sends (proxmox/pve-storage, src/PVE/Diskmanage.pm and API2/Disks.pm):
 * - `GET /nodes/{node}/disks/list`: udev and sysfs facts per disk. `serial` is ID_SERIAL_SHORT or
 *   "unknown"; `rpm` is -1 when unknown and 0 for non-rotational disks; `health` is the
 *   smartctl -H verdict or "UNKNOWN"; `wearout` is the LIFE LEFT in % (100 = new) or "N/A".
 * - `GET /nodes/{node}/disks/smart?disk=…`: `smartctl -H -A -f brief` parsed by PVE. ATA gives
 *   `attributes` (id space-padded, raw as printed, `fail` the brief format's "-" / "Past" / "NOW");
 *   NVMe and SAS give `type: "text"` with smartctl's lines after the SMART DATA header (the health
 *   line itself is taken out into `health`). A failed smartctl is swallowed by the API: it answers
 *   `{health: "UNKNOWN"}` and nothing else, so the reason is not known.
 * PVE gives no smartctl exit status: every exit bit is false and the code 0.
 */
import * as z from 'zod';
import { looseNumber } from '../api-client.ts';
import { decodeExitStatus } from '../smart/parse.ts';
import type { AtaAttribute, DriveHealth, NvmeHealth, ScsiHealth } from '../smart/types.ts';

/** PVE's numbers change type between versions and endpoints: a number, or a string holding one. */
const numeric = looseNumber;
/** `wearout`: life remaining in %, or "N/A" when PVE found no wear indicator. */
const wearout = z.union([numeric, z.literal('N/A')]);

/** One element of `GET /nodes/{node}/disks/list`. */
export const pveDisk = z.object({
  devpath: z.string().min(1),
  serial: z.string().optional(),
  model: z.string().optional(),
  vendor: z.string().optional(),
  wwn: z.string().optional(),
  /** ssd, hdd, nvme, usb, unknown (partition with include-partitions) */
  type: z.string().optional(),
  rpm: numeric.optional(),
  size: numeric.optional(),
  health: z.string().optional(),
  wearout: wearout.optional(),
  used: z.string().optional(),
  by_id_link: z.string().optional(),
});
export type PveDisk = z.infer<typeof pveDisk>;

const pveAttribute = z.object({
  id: z.union([z.string(), z.number()]),
  name: z.string(),
  flags: z.string().optional(),
  /** `value` is PVE's deprecated copy of `normalized` */
  value: numeric.optional(),
  normalized: numeric.optional(),
  worst: numeric.optional(),
  threshold: numeric.optional(),
  fail: z.string().optional(),
  raw: z.union([z.string(), z.number()]).optional(),
});

/** The `data` of `GET /nodes/{node}/disks/smart?disk=<devpath>`. */
export const pveSmart = z.object({
  health: z.string().default('UNKNOWN'),
  type: z.string().optional(),
  attributes: z.array(pveAttribute).optional(),
  text: z.string().optional(),
  wearout: wearout.optional(),
});
export type PveSmart = z.infer<typeof pveSmart>;

/** Percent of rated endurance used, from the disk list's life-left `wearout` (for disks without SMART data). */
export function wearPctUsed(disk: Pick<PveDisk, 'wearout'>): number | undefined {
  return typeof disk.wearout === 'number' ? 100 - disk.wearout : undefined;
}

const known = (s: string | undefined): s is string => s !== undefined && s.trim() !== '' && s !== 'unknown';

/** The leading integer of a raw value as smartctl prints it ("27 (Min/Max 2/49)" → 27, "7963h+07m+54.620s" → 7963). */
function leadingInt(raw: string | number | undefined): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  const m = raw === undefined ? null : /^\s*(\d+)/.exec(raw);
  return m ? Number(m[1]) : undefined;
}

/** The brief format's FAIL column ("-", "Past", "NOW"), or the long format's words if a PVE ever sends them. */
function whenFailed(fail: string | undefined): AtaAttribute['whenFailed'] {
  const f = (fail ?? '').trim().toLowerCase();
  if (f === 'now' || f === 'failing_now') return 'now';
  if (f === 'past' || f === 'in_the_past') return 'past';
  return '';
}

function ataAttributes(attrs: NonNullable<PveSmart['attributes']>): AtaAttribute[] {
  return attrs.flatMap((a) => {
    const id = typeof a.id === 'number' ? a.id : Number(a.id.trim());
    if (!Number.isInteger(id)) return [];
    const raw = a.raw === undefined ? '' : String(a.raw);
    return [{
      id,
      name: a.name,
      // required numbers the API left out: NaN, so no comparison fires on them (as parse.ts does)
      value: a.normalized ?? a.value ?? Number.NaN,
      worst: a.worst ?? Number.NaN,
      thresh: a.threshold ?? Number.NaN,
      raw: leadingInt(raw) ?? Number.NaN,
      rawString: raw,
      whenFailed: whenFailed(a.fail),
      // brief flags "POSR-K": P is the prefailure bit
      prefailure: a.flags?.[0] === 'P',
    }];
  });
}

/** "Label:   1,234 [..]" in smartctl's text → 1234; hex "0x04" too. Absent label → undefined. */
function textNumber(text: string, label: RegExp): number | undefined {
  const m = new RegExp(`^\\s*${label.source}:?\\s+(0x[0-9a-f]+|[\\d,]+(?:\\.\\d+)?)`, 'im').exec(text);
  if (!m) return undefined;
  const v = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!, 16) : Number(m[1]!.replace(/,/g, ''));
  return Number.isFinite(v) ? v : undefined;
}

/**
 * nvmeprint's "SMART/Health Information" lines. Keys smartctl did not print stay absent (the
 * type says number; absent is what the observation must show), and without the warning, media
 * errors and wear there is no NVMe health to speak of.
 */
function nvmeFromText(text: string, lifeLeft: number | undefined): NvmeHealth | undefined {
  const used = textNumber(text, /Percentage Used/) ?? (lifeLeft === undefined ? undefined : 100 - lifeLeft);
  const h = {
    criticalWarning: textNumber(text, /Critical Warning/),
    mediaErrors: textNumber(text, /Media and Data Integrity Errors/),
    percentageUsed: used,
    availableSpare: textNumber(text, /Available Spare/),
    availableSpareThreshold: textNumber(text, /Available Spare Threshold/),
    unsafeShutdowns: textNumber(text, /Unsafe Shutdowns/),
    errorLogEntries: textNumber(text, /Error Information Log Entries/),
    dataUnitsWritten: textNumber(text, /Data Units Written/),
  };
  if (h.criticalWarning === undefined || h.mediaErrors === undefined || h.percentageUsed === undefined) return undefined;
  return defined(h) as NvmeHealth;
}

/** scsiprint's lines: grown defects and the error counter log's "Total uncorrected errors" column (the last). */
function scsiFromText(text: string): ScsiHealth | undefined {
  const rows = text.split('\n').map((l) => l.trim().split(/[ \t]+/));
  const total = (dir: string) => {
    // "read:  0  0  0  0  0  12345.678  0": seven figures, the last is the total uncorrected
    const row = rows.find((r) => r[0] === `${dir}:` && r.length === 8);
    const last = row?.[7];
    return last !== undefined && /^\d+$/.test(last) ? Number(last) : undefined;
  };
  const scsi = defined<ScsiHealth>({
    grownDefects: textNumber(text, /Elements in grown defect list/),
    uncorrectedReadErrors: total('read'),
    uncorrectedWriteErrors: total('write'),
    uncorrectedVerifyErrors: total('verify'),
  });
  return Object.keys(scsi).length > 0 ? scsi : undefined;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** smartctl's verdict: PASSED (ATA, NVMe) and OK (SCSI) pass, FAILED… fails, anything else is no verdict. */
function verdict(health: string | undefined): boolean | undefined {
  const h = (health ?? '').trim().toUpperCase();
  if (h === 'PASSED' || h === 'OK') return true;
  if (h.startsWith('FAILED')) return false;
  return undefined;
}

function protocolOf(disk: PveDisk, smart: PveSmart | undefined): DriveHealth['protocol'] {
  if (disk.type === 'nvme' || /NVMe Log/.test(smart?.text ?? '')) return 'NVMe';
  if (smart?.type === 'ata') return 'ATA';
  // scsiprint says "SMART Health Status: OK"; PVE moves that line into `health`
  if (smart?.type === 'text' || (smart?.health ?? disk.health)?.toUpperCase() === 'OK') return 'SCSI';
  return undefined;
}

/** 0 for solid state (PVE sets rpm 0 for non-rotational disks); -1, or an hdd without a rate, is unknown. */
function rotationOf(disk: PveDisk): number | undefined {
  if (disk.type === 'ssd' || disk.type === 'nvme') return 0;
  if (disk.rpm === undefined || disk.rpm < 0 || (disk.type === 'hdd' && disk.rpm === 0)) return undefined;
  return disk.rpm;
}

/** Why no SMART data came, in words a person can act on. */
function unreadable(node: string, disk: PveDisk, smart: PveSmart | undefined): string | undefined {
  const health = smart?.health ?? disk.health;
  if (/^SMART Disabled$/i.test(health ?? '')) return `SMART is disabled on ${disk.devpath} (node ${node}): enable it with \`smartctl -s on ${disk.devpath}\``;
  if (smart && verdict(smart.health) === undefined && !smart.attributes?.length && !smart.text)
    return `PVE could not read SMART data of ${disk.devpath} on node ${node} (health "${smart.health}"): run \`smartctl -x ${disk.devpath}\` on ${node} as root to see why`;
  if (!smart && verdict(disk.health) === undefined)
    return `PVE reported no SMART data for ${disk.devpath} on node ${node} (health "${disk.health ?? 'missing'}")`;
  return undefined;
}

/**
 * One PVE disk (and its SMART data, when it was read) as labwatch's DriveHealth. With only the
 * disk list, its smartctl -H verdict is still a reading (state "ok", nothing else known).
 */
export function driveFromPve(node: string, disk: PveDisk, smart: PveSmart | undefined): DriveHealth {
  const serial = known(disk.serial) ? disk.serial.trim() : undefined;
  const error = unreadable(node, disk, smart);
  const attrs = smart?.type === 'ata' && smart.attributes ? ataAttributes(smart.attributes) : undefined;
  const rawOf = (id: number) => attrs?.find((a) => a.id === id)?.raw;
  const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : undefined);
  const text = smart?.type === 'text' ? smart.text ?? '' : '';
  const protocol = protocolOf(disk, smart);
  const lifeLeft = typeof smart?.wearout === 'number' ? smart.wearout : typeof disk.wearout === 'number' ? disk.wearout : undefined;

  const drive: DriveHealth = {
    subject: serial ? `disk:${serial}` : `disk:${node}:${disk.devpath}`,
    device: disk.devpath,
    type: 'pve-api',
    state: error ? 'error' : 'ok',
    error,
    exit: decodeExitStatus(0),
    serial,
    model: known(disk.model) ? disk.model : undefined,
    protocol,
    capacityBytes: disk.size,
    rotationRate: rotationOf(disk),
    smartPassed: verdict(smart?.health ?? disk.health),
    messages: [],
  };
  if (attrs) {
    drive.ataAttributes = attrs;
    drive.temperatureC = finite(rawOf(194)) ?? finite(rawOf(190));
    drive.powerOnHours = finite(rawOf(9));
    drive.powerCycles = finite(rawOf(12));
  } else if (text && protocol === 'NVMe') {
    drive.nvme = nvmeFromText(text, lifeLeft);
    drive.temperatureC = textNumber(text, /Temperature/);
    drive.powerOnHours = textNumber(text, /Power On Hours/);
    drive.powerCycles = textNumber(text, /Power Cycles/);
    drive.errorLogCount = textNumber(text, /Error Information Log Entries/);
  } else if (text) {
    drive.scsi = scsiFromText(text);
    drive.temperatureC = textNumber(text, /Current Drive Temperature/);
    drive.powerOnHours = textNumber(text, /Accumulated power on time, hours:minutes/);
  }
  return defined(drive);
}
