/**
 * `smartctl --json` output → DriveHealth. Pure: the caller runs smartctl and hands over stdout
 * and the exit code. Field names follow smartctl's JSON as seen in ../shared/fixtures/smartctl/ and
 * smartmontools' ataprint/nvmeprint/scsiprint. smartctl's exit bits are facts (an error-log
 * entry, an attribute that was once at threshold), never a verdict: only `smart_status.passed`
 * says failed, and a reallocated-sector count is a value for rules to judge.
 */
import type {
  AtaAttribute,
  DriveHealth,
  NvmeHealth,
  ScannedDevice,
  ScsiHealth,
  SelfTestSummary,
  SmartExitStatus,
} from './types.ts';

export class SmartParseError extends Error {
  override name = 'SmartParseError';
}

type Json = Record<string, unknown>;
type Message = DriveHealth['messages'][number];

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);

/** doc.a.b… when every step is an object, else undefined. */
function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Drops undefined keys, so "smartctl did not report it" is an absent key, not `key: undefined`. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Required numbers in types.ts that smartctl may omit (ATA `value`/`worst`/`thresh` without a
 * normalised value or threshold): NaN, so no comparison ever fires on a value that does not exist.
 */
const numOrNaN = (v: unknown): number => num(v) ?? Number.NaN;

export function decodeExitStatus(code: number): SmartExitStatus {
  const bit = (n: number): boolean => (code & (1 << n)) !== 0;
  return {
    code,
    commandLineError: bit(0),
    openFailedOrLowPower: bit(1),
    commandFailed: bit(2),
    diskFailing: bit(3),
    prefailAtOrBelowThreshold: bit(4),
    attributeFailedInPast: bit(5),
    errorLogHasErrors: bit(6),
    selfTestLogHasErrors: bit(7),
  };
}

function preview(text: string): string {
  const head = text.slice(0, 40);
  return JSON.stringify(text.length > head.length ? `${head}…` : head);
}

/** Parses smartctl's JSON; anything else (text output, a cut-off document) is a SmartParseError. */
function parseDocument(stdout: string, what: string): Json {
  if (stdout.trim() === '') throw new SmartParseError(`${what} is empty`);
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SmartParseError(`${what} is not JSON (${why}): first bytes ${preview(stdout)}`);
  }
  if (!isObj(doc)) throw new SmartParseError(`${what} is JSON but not an object: first bytes ${preview(stdout)}`);
  if (!('smartctl' in doc) && !('json_format_version' in doc)) {
    throw new SmartParseError(`${what} is JSON but not smartctl's (no "smartctl" or "json_format_version")`);
  }
  return doc;
}

function readMessages(doc: Json): Message[] {
  return (arr(at(doc, 'smartctl', 'messages')) ?? []).filter(isObj).flatMap((m) => {
    const text = str(m.string);
    return text === undefined ? [] : [{ severity: str(m.severity) ?? '', text }];
  });
}

/** What smartctl prints when `-n` skips a sleeping drive (ataprint.cpp, smartctl.cpp). */
const SKIPPED_MESSAGE = /Device is in .{1,40} mode, exit\(\d{1,3}\)/; // bounded: linear on any message
/** Keys only present when smartctl actually read the drive. */
const DATA_KEYS = ['serial_number', 'model_name', 'smart_status', 'ata_smart_attributes', 'nvme_smart_health_information_log', 'scsi_model_name'];

/**
 * Exit 2 is both "open failed" and "asleep" (with plain `-n standby`): decide by what smartctl
 * said. labwatch's `-n standby,N` code counts unless smartctl reported an error, or the drive was
 * read after all (N = 0 would otherwise match every healthy drive).
 */
function isStandby(doc: Json, messages: Message[], codes: number[], standbyExitCode: number | undefined): boolean {
  const mode = str(at(doc, 'power_mode', 'name'));
  if (mode !== undefined && (mode.startsWith('STANDBY') || mode === 'SLEEP')) return true;
  if (messages.some((m) => m.severity !== 'error' && SKIPPED_MESSAGE.test(m.text))) return true;
  if (standbyExitCode === undefined || !codes.includes(standbyExitCode)) return false;
  return !messages.some((m) => m.severity === 'error') && !DATA_KEYS.some((k) => k in doc);
}

function errorText(messages: Message[], exit: SmartExitStatus): string {
  const errors = messages.filter((m) => m.severity === 'error');
  const said = (errors.length > 0 ? errors : messages).map((m) => m.text);
  return said.length > 0 ? said.join('; ') : `smartctl printed no message (exit status ${exit.code})`;
}

function model(doc: Json): string | undefined {
  const name = str(doc.model_name) ?? str(doc.scsi_model_name);
  if (name !== undefined) return name;
  // SCSI without a combined name: vendor + product (smartctl 6.7 used `vendor`/`product`)
  const parts = [str(doc.scsi_vendor) ?? str(doc.vendor), str(doc.scsi_product) ?? str(doc.product)];
  const present = parts.filter((p): p is string => p !== undefined && p !== '');
  return present.length > 0 ? present.join(' ') : undefined;
}

function protocol(doc: Json): DriveHealth['protocol'] {
  const p = str(at(doc, 'device', 'protocol'));
  return p === 'ATA' || p === 'NVMe' || p === 'SCSI' ? p : undefined;
}

function version(doc: Json): string | undefined {
  const v = arr(at(doc, 'smartctl', 'version'));
  return v && v.length > 0 && v.every((x) => typeof x === 'number') ? v.join('.') : undefined;
}

function ataAttributes(doc: Json): AtaAttribute[] | undefined {
  const table = arr(at(doc, 'ata_smart_attributes', 'table'));
  if (!table) return undefined;
  return table.filter(isObj).flatMap((a): AtaAttribute[] => {
    const id = num(a.id);
    if (id === undefined) return [];
    const whenFailed = a.when_failed === 'now' || a.when_failed === 'past' ? a.when_failed : '';
    return [{
      id,
      name: str(a.name) ?? '',
      value: numOrNaN(a.value),
      worst: numOrNaN(a.worst),
      thresh: numOrNaN(a.thresh),
      raw: numOrNaN(at(a, 'raw', 'value')),
      rawString: str(at(a, 'raw', 'string')) ?? '',
      whenFailed,
      prefailure: bool(at(a, 'flags', 'prefailure')) ?? false,
    }];
  });
}

function nvmeHealth(doc: Json): NvmeHealth | undefined {
  const log = doc.nvme_smart_health_information_log;
  if (!isObj(log)) return undefined;
  return defined({
    criticalWarning: numOrNaN(log.critical_warning),
    mediaErrors: numOrNaN(log.media_errors),
    percentageUsed: numOrNaN(log.percentage_used),
    availableSpare: numOrNaN(log.available_spare),
    availableSpareThreshold: numOrNaN(log.available_spare_threshold),
    unsafeShutdowns: numOrNaN(log.unsafe_shutdowns),
    errorLogEntries: numOrNaN(log.num_err_log_entries),
    dataUnitsWritten: num(log.data_units_written),
  });
}

function scsiHealth(doc: Json): ScsiHealth | undefined {
  const uncorrected = (dir: string) => num(at(doc, 'scsi_error_counter_log', dir, 'total_uncorrected_errors'));
  const scsi = defined({
    grownDefects: num(doc.scsi_grown_defect_list),
    uncorrectedReadErrors: uncorrected('read'),
    uncorrectedWriteErrors: uncorrected('write'),
    uncorrectedVerifyErrors: uncorrected('verify'),
  });
  return Object.keys(scsi).length > 0 ? scsi : undefined;
}

interface TestEntry { type: string; status: string; passed?: boolean; lifetimeHours?: number }

function ataEntry(e: Json): TestEntry {
  return {
    type: str(at(e, 'type', 'string')) ?? '',
    status: str(at(e, 'status', 'string')) ?? '',
    passed: bool(at(e, 'status', 'passed')), // absent for aborted tests: no verdict
    lifetimeHours: num(e.lifetime_hours),
  };
}

/** NVMe entries carry no `passed`: results 5–7 are failures, 0 a pass, the rest aborts (nvmeprint.cpp). */
function nvmeEntry(e: Json): TestEntry {
  const result = num(at(e, 'self_test_result', 'value'));
  const passed = result === 0 ? true : result !== undefined && result >= 5 && result <= 7 ? false : undefined;
  return {
    type: str(at(e, 'self_test_code', 'string')) ?? '',
    status: str(at(e, 'self_test_result', 'string')) ?? '',
    passed,
    lifetimeHours: num(e.power_on_hours),
  };
}

/** Both logs list the newest entry first. An aborted test counts as not failed. */
function summarise(entries: TestEntry[], inProgress: boolean | undefined): SelfTestSummary {
  const first = entries[0];
  const latest = first && defined({ type: first.type, status: first.status, passed: first.passed !== false, lifetimeHours: first.lifetimeHours });
  return defined({ count: entries.length, failed: entries.filter((e) => e.passed === false).length, latest, inProgress });
}

function selfTest(doc: Json): SelfTestSummary | undefined {
  const ataLog = at(doc, 'ata_smart_self_test_log');
  const ata = at(ataLog, 'standard') ?? at(ataLog, 'extended'); // `-x` on GPL drives gives only `extended`
  if (isObj(ata)) {
    // status byte 0xF_ = running (ataprint.cpp PrintSmartSelfExecStatus)
    const status = num(at(doc, 'ata_smart_data', 'self_test', 'status', 'value'));
    return summarise((arr(ata.table) ?? []).filter(isObj).map(ataEntry), status === undefined ? undefined : status >> 4 === 0xf);
  }
  const nvme = doc.nvme_self_test_log;
  if (isObj(nvme)) {
    const op = num(at(nvme, 'current_self_test_operation', 'value'));
    // unused slots can leave holes (null) in the table
    return summarise((arr(nvme.table) ?? []).filter(isObj).map(nvmeEntry), op === undefined ? undefined : op !== 0);
  }
  return undefined;
}

function errorLogCount(doc: Json): number | undefined {
  return (
    num(at(doc, 'ata_smart_error_log', 'summary', 'count')) ??
    num(at(doc, 'ata_smart_error_log', 'extended', 'count')) ??
    num(at(doc, 'nvme_smart_health_information_log', 'num_err_log_entries'))
  );
}

export function parseSmartctl(
  stdout: string,
  exitCode: number,
  scanned: { device: string; type: string },
  standbyExitCode?: number,
): DriveHealth {
  const doc = parseDocument(stdout, `smartctl output for ${scanned.device}`);
  const messages = readMessages(doc);
  const jsonExit = num(at(doc, 'smartctl', 'exit_status'));
  const exit = decodeExitStatus(jsonExit ?? exitCode); // smartctl's own figure wins
  const standby = isStandby(doc, messages, [exitCode, exit.code], standbyExitCode);
  // Without a `device` section, or with "cannot open / bad command line", nothing was read.
  const unreadable = !isObj(doc.device) || exit.commandLineError || exit.openFailedOrLowPower;
  const state: DriveHealth['state'] = standby ? 'standby' : unreadable ? 'error' : 'ok';
  const serial = str(doc.serial_number);

  return defined<DriveHealth>({
    subject: `disk:${serial !== undefined && serial !== '' ? serial : scanned.device}`,
    device: scanned.device,
    // smartctl's resolved type (megaraid,1 → sat+megaraid,1) is the exact -d for the next run
    type: str(at(doc, 'device', 'type')) ?? scanned.type,
    state,
    error: state === 'error' ? errorText(messages, exit) : undefined,
    exit,
    smartctlVersion: version(doc),
    serial,
    model: model(doc),
    family: str(doc.model_family),
    firmware: str(doc.firmware_version) ?? str(doc.scsi_revision) ?? str(doc.revision),
    protocol: protocol(doc),
    // some NVMe controllers report no namespace size, only the total NVM capacity
    capacityBytes: num(at(doc, 'user_capacity', 'bytes')) ?? num(doc.nvme_total_capacity),
    rotationRate: num(doc.rotation_rate),
    temperatureC: num(at(doc, 'temperature', 'current')),
    powerOnHours: num(at(doc, 'power_on_time', 'hours')),
    powerCycles: num(doc.power_cycle_count),
    smartPassed: bool(at(doc, 'smart_status', 'passed')),
    ataAttributes: ataAttributes(doc),
    nvme: nvmeHealth(doc),
    scsi: scsiHealth(doc),
    selfTest: selfTest(doc),
    errorLogCount: errorLogCount(doc),
    messages,
  });
}

/** `smartctl --scan --json` / `--scan-open --json`: the devices and the -d type for each. */
export function parseScan(stdout: string): ScannedDevice[] {
  const doc = parseDocument(stdout, 'smartctl --scan output');
  return (arr(doc.devices) ?? []).filter(isObj).flatMap((d): ScannedDevice[] => {
    const device = str(d.name);
    const type = str(d.type);
    if (device === undefined || type === undefined) return [];
    return [defined({ device, type, protocol: str(d.protocol) })];
  });
}
