/**
 * Drive health → observations (`disk:<serial>`, kind "drive"), with the values the default rules
 * read: counters by their homelab names (reallocated_sectors is ATA attribute 5's raw count),
 * the drive class for temperature limits, and smartctl's exit bits. A sleeping drive is
 * observed as state "standby" with none of its counters, so no rule mistakes sleep for failure
 * and history is not polluted with stale numbers.
 */
import type { Observation } from '../types.ts';
import type { Collector } from '../types.ts';
import { SmartReader } from './read.ts';
import type { DriveHealth } from './types.ts';

/** ATA attribute ids whose raw value is a count the rules watch, by the name they use. */
const ATA_COUNTERS: Record<number, string> = {
  5: 'reallocated_sectors',
  187: 'reported_uncorrectable',
  196: 'reallocation_events',
  197: 'pending_sectors',
  198: 'offline_uncorrectable',
  199: 'udma_crc_errors',
};

/**
 * SATA SSD attributes whose normalised value is the life remaining (100 = new), by id and by the
 * name smartctl's drivedb gives them: the same id means other things on other drives (233 is
 * Total_LBAs_Written on Dell's Intel S3520, 202 End_of_Life on Intel, 230 Media_Wearout_Indicator
 * counts up on WD), so both must match. 202's normalised value is max(100 - raw used %, 0) (drivedb).
 */
const LIFE_LEFT: { id: number; name: string; family?: RegExp }[] = [
  { id: 231, name: 'SSD_Life_Left' },
  { id: 233, name: 'Media_Wearout_Indicator' },
  { id: 202, name: 'Percent_Lifetime_Remain' },
  { id: 169, name: 'Remaining_Lifetime_Perc' },
  // 177 is smartctl's default name whatever the drive means by it; only Samsung documents it as wear.
  { id: 177, name: 'Wear_Leveling_Count', family: /samsung/i },
];

/** The most worn life-remaining attribute: percent of rated endurance used, and which attribute said so. */
function sataWear(d: DriveHealth): { pctUsed: number; attribute: string } | undefined {
  let worst: { pctUsed: number; attribute: string } | undefined;
  const maker = `${d.family ?? ''} ${d.model ?? ''}`;
  for (const a of d.ataAttributes ?? []) {
    const known = LIFE_LEFT.find((l) => l.id === a.id && l.name === a.name && (!l.family || l.family.test(maker)));
    // a normalised value above 100 is not on a percent scale
    if (!known || !Number.isFinite(a.value) || a.value < 0 || a.value > 100) continue;
    const pctUsed = 100 - a.value;
    if (!worst || pctUsed > worst.pctUsed) worst = { pctUsed, attribute: `${a.id} ${a.name} = ${a.value}` };
  }
  return worst;
}

function driveClass(d: DriveHealth): 'nvme' | 'ssd' | 'hdd' | 'unknown' {
  if (d.protocol === 'NVMe') return 'nvme';
  if (d.rotationRate === 0) return 'ssd';
  if (typeof d.rotationRate === 'number' && d.rotationRate > 0) return 'hdd';
  return 'unknown';
}

export function driveObservation(d: DriveHealth, host: string, at = new Date().toISOString()): Observation {
  const v: Record<string, unknown> = { state: d.state, device: d.device, type: d.type, drive_class: driveClass(d) };
  const put = (k: string, x: unknown) => {
    if (x !== undefined) v[k] = x;
  };
  put('error', d.error);
  put('serial', d.serial);
  put('model', d.model);
  put('protocol', d.protocol);
  if (d.state === 'ok') {
    put('exit_code', d.exit.code);
    v.disk_failing = d.exit.diskFailing;
    v.prefail_at_threshold = d.exit.prefailAtOrBelowThreshold;
    put('passed', d.smartPassed);
    put('temperature_c', d.temperatureC);
    put('power_on_hours', d.powerOnHours);
    put('capacity_bytes', d.capacityBytes);
    for (const a of d.ataAttributes ?? []) {
      const name = ATA_COUNTERS[a.id];
      if (name) put(name, a.raw);
    }
    const attrs = d.ataAttributes ?? [];
    const wear = sataWear(d);
    if (wear) {
      v.wear_pct_used = wear.pctUsed;
      v.wear_attribute = wear.attribute;
    }
    v.attributes_failing_now = attrs.filter((a) => a.whenFailed === 'now').map((a) => `${a.id} ${a.name}`).join(', ');
    v.attributes_failed_past = attrs.filter((a) => a.whenFailed === 'past').map((a) => `${a.id} ${a.name}`).join(', ');
    if (d.nvme) {
      put('critical_warning', d.nvme.criticalWarning);
      put('media_errors', d.nvme.mediaErrors);
      put('percentage_used', d.nvme.percentageUsed);
      put('available_spare', d.nvme.availableSpare);
      put('available_spare_threshold', d.nvme.availableSpareThreshold);
      put('unsafe_shutdowns', d.nvme.unsafeShutdowns);
    }
    if (d.scsi) {
      put('grown_defects', d.scsi.grownDefects);
      const unc = [d.scsi.uncorrectedReadErrors, d.scsi.uncorrectedWriteErrors, d.scsi.uncorrectedVerifyErrors].filter((x): x is number => typeof x === 'number');
      if (unc.length) v.uncorrected_errors = unc.reduce((a, b) => a + b, 0);
    }
    put('error_log_count', d.errorLogCount);
    if (d.selfTest) {
      v.selftest_count = d.selfTest.count;
      v.selftest_failed = d.selfTest.failed;
      if (d.selfTest.latest) v.selftest_latest_passed = d.selfTest.latest.passed;
    }
  }
  return { source: 'smart', kind: 'drive', subject: d.subject, host, at, values: v, summary: driveSummary(d, v), trend: d.nvme ? 'percentage_used' : 'reallocated_sectors' };
}

/** "WDC WD20EFRX-68EUZN0 /dev/sda · 38 °C · 0 reallocated · 0 pending" — what the digest lists. */
function driveSummary(d: DriveHealth, v: Record<string, unknown>): string {
  const name = [d.model, d.device].filter(Boolean).join(' ');
  if (d.state === 'standby') return `${name} · asleep (not woken)`;
  if (d.state === 'error') return `${name} · unreadable: ${d.error ?? 'unknown error'}`;
  const parts = [name];
  if (d.smartPassed === false) parts.push('SMART FAILING');
  if (d.temperatureC !== undefined) parts.push(`${d.temperatureC} °C`);
  if (d.nvme) parts.push(`${d.nvme.percentageUsed} % worn`, `${d.nvme.mediaErrors} media errors`);
  if (typeof v.wear_pct_used === 'number') parts.push(`${v.wear_pct_used} % worn`);
  if (typeof v.reallocated_sectors === 'number') parts.push(`${v.reallocated_sectors} reallocated`);
  if (typeof v.pending_sectors === 'number') parts.push(`${v.pending_sectors} pending`);
  return parts.join(' · ');
}

export function smartCollector(opts: { host: string; reader?: SmartReader }): Collector {
  const reader = opts.reader ?? new SmartReader();
  // A sleeping drive reports no serial (asking would wake it): remember each device's identity
  // from its last awake read, so its subject stays disk:<serial> while it sleeps.
  const known = new Map<string, string>();
  // Drives seen since start: one that drops out of the scan is reported missing, not forgotten.
  const seen = new Map<string, { device: string; model?: string }>();
  return {
    name: 'smart',
    collect: async (signal) => {
      const now = new Date().toISOString();
      const observations = (await reader.readAll(signal)).map((d) => {
        if (d.serial) known.set(d.device, d.subject);
        else if (d.state === 'standby' && known.has(d.device)) d = { ...d, subject: known.get(d.device)! };
        if (d.serial) seen.set(d.subject, { device: d.device, ...(d.model ? { model: d.model } : {}) });
        return driveObservation(d, opts.host, now);
      });
      const present = new Set(observations.map((o) => o.subject));
      for (const [subject, last] of seen)
        if (!present.has(subject))
          observations.push({ source: 'smart', kind: 'drive', subject, host: opts.host, at: now, values: { state: 'missing', device: last.device, model: last.model ?? '', drive_class: 'unknown' } });
      return observations;
    },
  };
}
