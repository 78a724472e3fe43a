/**
 * One drive's health as labwatch sees it, normalised across ATA, NVMe and SCSI from
 * `smartctl --json -x`. Absent fields mean smartctl did not report them, never zero.
 */

/** smartctl's exit status, bit by bit (smartctl(8) "RETURN VALUES"): facts, not failures. */
export interface SmartExitStatus {
  code: number;
  /** bit 0: command line did not parse, or device type could not be detected */
  commandLineError: boolean;
  /** bit 1: device open failed, or (with -n) the device is in a low-power mode */
  openFailedOrLowPower: boolean;
  /** bit 2: a SMART or ATA command failed, or a SMART data checksum error */
  commandFailed: boolean;
  /** bit 3: SMART status "DISK FAILING" */
  diskFailing: boolean;
  /** bit 4: prefail attribute(s) at or below threshold now */
  prefailAtOrBelowThreshold: boolean;
  /** bit 5: some attribute was at or below threshold in the past */
  attributeFailedInPast: boolean;
  /** bit 6: the device error log has errors */
  errorLogHasErrors: boolean;
  /** bit 7: the self-test log has errors */
  selfTestLogHasErrors: boolean;
}

export interface AtaAttribute {
  id: number;
  name: string;
  /** normalised value, worst and threshold (vendor scale, usually 1–253; lower is worse) */
  value: number;
  worst: number;
  thresh: number;
  /** raw.value as smartctl decoded it (a count for 5/197/198/199; vendor-packed for some others) */
  raw: number;
  rawString: string;
  /** smartctl's words: "" (never), "now", "past" */
  whenFailed: '' | 'now' | 'past';
  prefailure: boolean;
}

export interface NvmeHealth {
  criticalWarning: number;
  mediaErrors: number;
  percentageUsed: number;
  availableSpare: number;
  availableSpareThreshold: number;
  unsafeShutdowns: number;
  errorLogEntries: number;
  dataUnitsWritten?: number;
}

export interface ScsiHealth {
  grownDefects?: number;
  uncorrectedReadErrors?: number;
  uncorrectedWriteErrors?: number;
  uncorrectedVerifyErrors?: number;
}

export interface SelfTestSummary {
  /** entries in the self-test log */
  count: number;
  /** entries that did not pass */
  failed: number;
  /** the newest entry, when there is one */
  latest?: { type: string; status: string; passed: boolean; lifetimeHours?: number };
  inProgress?: boolean;
}

export interface DriveHealth {
  /** `disk:<serial>`; falls back to `disk:<device path>` only when smartctl reported no serial */
  subject: string;
  /** the device path as scanned (/dev/sda): for people, never an identity */
  device: string;
  /** the -d type used (sat, nvme, scsi, usbjmicron, sat+megaraid,1 …) */
  type: string;
  /** ok: data read; standby: skipped so as not to wake it; error: smartctl could not read it */
  state: 'ok' | 'standby' | 'error';
  /** for state "error": what smartctl said, verbatim */
  error?: string;
  exit: SmartExitStatus;
  smartctlVersion?: string;
  serial?: string;
  model?: string;
  family?: string;
  firmware?: string;
  protocol?: 'ATA' | 'NVMe' | 'SCSI';
  capacityBytes?: number;
  /** 0 for solid state */
  rotationRate?: number;
  temperatureC?: number;
  powerOnHours?: number;
  powerCycles?: number;
  /** smart_status.passed; absent when smartctl could not tell */
  smartPassed?: boolean;
  ataAttributes?: AtaAttribute[];
  nvme?: NvmeHealth;
  scsi?: ScsiHealth;
  selfTest?: SelfTestSummary;
  /** ATA error log / NVMe error log entry count */
  errorLogCount?: number;
  /** smartctl's own messages (severity information|warning|error) */
  messages: { severity: string; text: string }[];
}

/** A device from `smartctl --scan-open --json`. */
export interface ScannedDevice {
  device: string;
  type: string;
  protocol?: string;
}
