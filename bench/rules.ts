/**
 * Benchmark: the CEL rule engine and the smartctl/zpool parsers, each against a baseline measured
 * in the same run (ratios, not absolute times, are what carries across machines).
 *
 * 1. Rule evaluation over one collection round of a homelab (12 drives, 2 pools with 8 devices,
 *    filesystems, interfaces, collector health; two drives degrading so some rules fire), each
 *    subject with a full history (HISTORY_MAX = 500 points, as the engine keeps).
 *    (a) conditions only: `rule.when(ctx)` of the loaded default rules vs. the same conditions
 *        hand-written in TypeScript (TS below), contexts and rule lists built outside the loop.
 *        This is the price of CEL itself.
 *    (b) full evaluation: contextFor + rulesFor + evaluateRule (for-state, escalation, anomaly with
 *        fingerprint, labels, templates, estimate) vs. contextFor + rulesFor + TS condition, TS
 *        escalation and a template-literal summary. The baseline is the least a hand-coded engine
 *        must do with the same inputs; the gap includes the anomaly object, not only CEL, and
 *        both sides share contextFor (deltas, rates over the history), which weighs the most.
 *    At start-up every TS condition and escalation is checked against CEL on every benchmark
 *    observation plus check-only probes that make each rule hold; a disagreement aborts the run.
 *    The comparison covers the rules that have a TS version; the others (a rule added since, the
 *    PromQL rules, which run on Prometheus series rather than on these readings) are listed as
 *    CEL-only, and timed in CEL alone when they apply to the workload. Adding a rule never breaks
 *    the run; changing one that has a TS version without changing TS does (the baseline would lie).
 * 2. Parse time per fixture document: the real parsers vs. the floor any parser of that text pays:
 *    JSON.parse for JSON documents, text.split('\n') for zpool's text (one pass over the text).
 *
 *   node --import tsx bench/rules.ts           (env: BENCH_SECONDS=3, per measurement)
 *   node --import tsx bench/rules.ts --smoke   (seconds: the agreement check in full, every
 *                                               measurement a few ms; what the test suite runs)
 *   --rules DIR                                (another rule folder; default: the shipped rules/)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseSmartctl } from '../src/connectors/smart/parse.ts';
import { parseZpoolList, parseZpoolStatusJson, parseZpoolStatusText } from '../src/connectors/zfs/parse.ts';
import type { CelContext } from '../src/rules/cel.ts';
import { contextFor, evaluateRule, rulesFor, type RuleState } from '../src/rules/evaluate.ts';
import { loadRules, type Rule } from '../src/rules/load.ts';
import { numericValues, type HistoryPoint, type Observation } from '../src/rules/observation.ts';
import { sharedFixture } from '../test/helpers/fixtures.ts';

const SMOKE = process.argv.includes('--smoke');
const SECONDS = SMOKE ? 0.02 : Number(process.env.BENCH_SECONDS ?? 3), WARMUP_MS = Math.min(500, SECONDS * 200);
const SAMPLES = SMOKE ? 5 : 101, SAMPLE_MS = SMOKE ? 0.02 : 0.2; // parse timing: samples per document, least time per sample
const HISTORY = 500, NOW = new Date('2026-11-10T12:00:00Z');
let sink = 0; // keeps results alive

// ---- the same conditions in TypeScript (has(x) is `x !== undefined`: collectors never store undefined)
type Dyn = any; // CEL's dyn: values are whatever the collector put there
type Fn<T> = (v: Dyn, d: Dyn, r: Dyn, s: string) => T;
interface TsRule { when: Fn<boolean>; esc?: Fn<boolean>; summary: Fn<string> }
const FINE = new Set(['ONLINE', 'HEALTHY', 'AVAIL', 'INUSE']);
const TS: Record<string, TsRule> = {
  'smart-health-failing': { when: (v) => v.state === 'ok' && (v.passed === false || v.disk_failing === true), summary: (_v, _d, _r, s) => `${s} reports SMART health FAILING` },
  'smart-attribute-failing-now': { when: (v) => v.state === 'ok' && v.attributes_failing_now !== undefined && v.attributes_failing_now !== '', summary: (v, _d, _r, s) => `${s}: attribute(s) at the failure threshold: ${v.attributes_failing_now}` },
  'smart-reallocated-sectors': { when: (v) => v.reallocated_sectors > 0, esc: (v, d) => v.reallocated_sectors >= 10 || d.reallocated_sectors >= 5,
    summary: (v, d, _r, s) => `${s}: ${v.reallocated_sectors} reallocated sectors${d.reallocated_sectors > 0 ? ` (+${d.reallocated_sectors} since the last check)` : ''}` },
  'smart-pending-sectors': { when: (v) => v.pending_sectors > 0, esc: (_v, d) => d.pending_sectors > 0, summary: (v, _d, _r, s) => `${s}: ${v.pending_sectors} sectors pending reallocation (unreadable)` },
  'smart-offline-uncorrectable': { when: (v) => v.offline_uncorrectable > 0, summary: (v, _d, _r, s) => `${s}: ${v.offline_uncorrectable} offline-uncorrectable sectors` },
  'smart-udma-crc-errors-growing': { when: (_v, _d, r) => r.udma_crc_errors > 0, summary: (v, _d, _r, s) => `${s}: interface CRC errors growing (${v.udma_crc_errors} now): check the SATA cable, not the disk` },
  'smart-temperature-high': { when: (v) => v.temperature_c !== undefined && v.temperature_c > (v.drive_class === 'hdd' ? 50 : 70),
    esc: (v) => (v.drive_class === 'hdd' && v.temperature_c >= 60) || v.temperature_c >= 80, summary: (v, _d, _r, s) => `${s} is at ${v.temperature_c} °C (${v.drive_class})` },
  'nvme-critical-warning': { when: (v) => v.critical_warning > 0, summary: (v, _d, _r, s) => `${s}: NVMe critical warning ${v.critical_warning}` },
  'nvme-media-errors': { when: (v) => v.media_errors > 0, esc: (_v, d) => d.media_errors > 0, summary: (v, _d, _r, s) => `${s}: ${v.media_errors} NVMe media errors` },
  'nvme-spare-below-threshold': { when: (v) => v.available_spare !== undefined && v.available_spare_threshold !== undefined && v.available_spare < v.available_spare_threshold,
    summary: (v, _d, _r, s) => `${s}: spare capacity ${v.available_spare} % is below its threshold ${v.available_spare_threshold} %` },
  'nvme-wear-high': { when: (v) => v.percentage_used >= 90, esc: (v) => v.percentage_used >= 100, summary: (v, _d, _r, s) => `${s}: ${v.percentage_used} % of rated endurance used` },
  'smart-self-test-failed': { when: (v) => v.selftest_latest_passed === false, summary: (_v, _d, _r, s) => `${s}: the latest SMART self-test failed` },
  'smart-error-log-growing': { when: (_v, d) => d.error_log_count > 0, summary: (v, d, _r, s) => `${s}: ${d.error_log_count} new entries in the drive's error log (${v.error_log_count} in all)` },
  'scsi-grown-defects-growing': { when: (_v, d) => d.grown_defects > 0, summary: (v, d, _r, s) => `${s}: grown defect list at ${v.grown_defects} (+${d.grown_defects})` },
  'smart-drive-unreadable': { when: (v) => v.state === 'error', summary: (v, _d, _r, s) => `labwatch cannot read SMART data of ${s}: ${v.error}` },
  'smart-drive-missing': { when: (v) => v.state === 'missing', summary: (v, _d, _r, s) => `${s} (${v.model}, last seen as ${v.device}) has disappeared` },
  'zfs-pool-not-online': { when: (v) => v.state !== 'ONLINE' || v.suspended === true, summary: (v) => `pool ${v.name} is ${v.state}${v.unhealthy_devices !== '' ? `: ${v.unhealthy_devices}` : ''}` },
  'zfs-device-not-online': { when: (v) => !FINE.has(v.state),
    summary: (v) => `${v.pool}: device ${v.name} is ${v.state}${v.note !== '' ? ` (${v.note})` : ''}${v.was_path !== '' ? `, was ${v.was_path}` : ''}` },
  'zfs-device-errors': { when: (v) => v.read_errors + v.write_errors + v.checksum_errors > 0, esc: (_v, d) => d.read_errors > 0 || d.write_errors > 0 || d.checksum_errors > 0,
    summary: (v) => `${v.pool}: ${v.name} has ${v.read_errors} read, ${v.write_errors} write, ${v.checksum_errors} checksum errors` },
  'zfs-permanent-errors': { when: (v) => v.data_errors > 0 || v.permanent_error_files > 0, summary: (v) => `pool ${v.name} has permanent data errors${v.permanent_errors !== '' ? `: ${v.permanent_errors}` : ''}` },
  'zfs-scrub-overdue': { when: (v) => v.scrub_age_days > 35, summary: (v) => `pool ${v.name} was last scrubbed ${v.scrub_age_days} days ago` },
  'zfs-scrub-found-errors': { when: (v) => v.last_scrub_errors > 0, summary: (v) => `the last scrub of ${v.name} finished with ${v.last_scrub_errors} errors` },
  'zfs-pool-capacity': { when: (v) => v.capacity_pct >= 80, esc: (v) => v.capacity_pct >= 90, summary: (v) => `pool ${v.name} is ${v.capacity_pct} % full` },
  'zfs-resilver-running': { when: (v) => v.resilvering === true, summary: (v) => `pool ${v.name} is resilvering: ${v.scan_text}` },
  'host-filesystem-full': { when: (v) => v.used_pct >= 90 && v.read_only === false, esc: (v) => v.used_pct >= 95,
    summary: (v) => `${v.mount} is ${v.used_pct} % full (${Math.trunc(v.available_bytes / 1073741824)} GiB left)` },
  'host-interface-errors-growing': { when: (_v, _d, r) => r.errors_total > 0, summary: (v) => `${v.name}: receive/transmit errors growing (${v.rx_errors} rx, ${v.tx_errors} tx)` },
  'host-mtu-mismatch': { when: (v) => v.mtu_expected !== undefined && v.mtu !== undefined && v.mtu !== v.mtu_expected,
    summary: (v) => `${v.name} has MTU ${v.mtu}, but its group (${v.mtu_group}) uses ${v.mtu_expected}` },
  'labwatch-collector-failing': { when: (v) => v.ok === false, summary: (v, _d, _r, s) => `labwatch cannot read ${s}: ${v.error}` },
};
const tsOf = (r: Rule): TsRule => TS[r.id]!; // only called on rules that have one (`compared` below)
function fail(msg: string): never { console.error(`bench/rules.ts: ${msg}`); process.exit(1); }
// ---- workload: one collection round; prev = the values before `was`, history = HISTORY points of prev
type V = Record<string, unknown>;
interface Item { obs: Observation; prev: V; history: HistoryPoint[]; ctx: CelContext; rules: Rule[] }
function item(source: string, kind: string, subject: string, values: V, was: V = {}, stepMin = 30, group?: string): Omit<Item, 'ctx' | 'rules'> {
  values = Object.fromEntries(Object.entries(values).filter(([, x]) => x !== undefined)); // as the collectors' put()
  const prev = { ...values, ...was };
  const hv = numericValues(prev);
  const history = Array.from({ length: HISTORY }, (_, i) => ({ at: new Date(NOW.getTime() - (HISTORY - i) * stepMin * 60_000).toISOString(), values: hv }));
  return { obs: { source, kind, subject, host: 'nas', at: NOW.toISOString(), values, ...(group ? { group } : {}) }, prev, history };
}
const okDrive = { state: 'ok', exit_code: 0, disk_failing: false, prefail_at_threshold: false, passed: true, attributes_failing_now: '', attributes_failed_past: '', error_log_count: 0 };
const hdd = (dev: string, serial: string, over: V = {}): V => ({ ...okDrive, device: dev, type: 'sat', drive_class: 'hdd', serial, model: 'WDC WD80EFZZ-68BTXN0', protocol: 'ATA',
  temperature_c: 34, power_on_hours: 21_400, capacity_bytes: 8_001_563_222_016, reallocated_sectors: 0, reported_uncorrectable: 0, reallocation_events: 0, pending_sectors: 0,
  offline_uncorrectable: 0, udma_crc_errors: 0, selftest_count: 4, selftest_failed: 0, selftest_latest_passed: true, ...over });
const ssd = (dev: string, serial: string): V => ({ ...hdd(dev, serial), drive_class: 'ssd', model: 'Samsung SSD 860 EVO 500GB', temperature_c: 31, capacity_bytes: 500_107_862_016 });
const nvme = (dev: string, serial: string, over: V = {}): V => ({ ...okDrive, device: dev, type: 'nvme', drive_class: 'nvme', serial, model: 'Samsung SSD 970 EVO Plus 1TB', protocol: 'NVMe',
  temperature_c: 41, power_on_hours: 9_800, capacity_bytes: 1_000_204_886_016, critical_warning: 0, media_errors: 0, percentage_used: 12, available_spare: 100, available_spare_threshold: 10, unsafe_shutdowns: 9, ...over });
const pool = (name: string, over: V = {}): V => ({ name, state: 'ONLINE', status: '', action: '', see: '', msgid: '', msg_meaning: '', msg_action: '', suspended: false,
  data_at_risk: false, risk: '', shared_cause: '', aux_devices: '', errors_unavailable: '', scan_kind: 'scrub', scan_state: 'finished', scan_text: 'scrub repaired 0B in 09:12:44 with 0 errors',
  resilvering: false, scrub_running: false, read_errors: 0, write_errors: 0, checksum_errors: 0, vdev_errors: 0, unhealthy_devices: '', data_errors: 0, permanent_error_files: 0, permanent_errors: '',
  last_scrub_errors: 0, scrub_age_days: 2.1, capacity_pct: 41, fragmentation_pct: 9, size_bytes: 2e12, alloc_bytes: 8.2e11, free_bytes: 1.18e12, ...over });
const vdev = (p: string, name: string, parent: string, over: V = {}): V => ({ pool: p, name, device_kind: 'disk', class: 'data', parent, state: 'ONLINE', note: '', was_path: '', resilvering: false,
  read_errors: 0, write_errors: 0, checksum_errors: 0, ...over });
const fs = (mount: string, used: number, over: V = {}): V => ({ mount, device: '/dev/mapper/pve-root', type: 'ext4', size_bytes: 1e11, used_bytes: used * 1e9, available_bytes: (100 - used) * 1e9,
  used_pct: used, read_only: false, ...over });
const nic = (name: string, mtu: number, over: V = {}): V => ({ name, state: 'up', virtual: false, rx_errors: 0, tx_errors: 0, rx_dropped: 0, tx_dropped: 0, errors_total: 0, mtu, speed_mbps: 10000, ...over });
const MTU = { mtu_expected: 9000, mtu_group: 'eno1,eno2,vmbr0' };

const tank = ['sda', 'sdb', 'sdc', 'sdd', 'sde', 'sdf'];
const round = [
  ...tank.map((d, i) => d === 'sdc' // degrading: reallocations, pending sectors, CRC errors, heat, error log
    ? item('smart', 'drive', `disk:WD-CA${i}`, hdd(`/dev/${d}`, `WD-CA${i}`, { exit_code: 64, reallocated_sectors: 12, pending_sectors: 2, udma_crc_errors: 9, temperature_c: 52, error_log_count: 3 }),
      { reallocated_sectors: 4, pending_sectors: 0, udma_crc_errors: 3, temperature_c: 51, error_log_count: 1 })
    : item('smart', 'drive', `disk:WD-CA${i}`, hdd(`/dev/${d}`, `WD-CA${i}`, { temperature_c: 33 + i }))),
  item('smart', 'drive', 'disk:/dev/sdg', { state: 'standby', device: '/dev/sdg', type: 'sat', drive_class: 'unknown' }),
  item('smart', 'drive', 'disk:ZL2K0XYZ', hdd('/dev/sdh', 'ZL2K0XYZ', { model: 'ST4000VN008-2DR166', power_on_hours: 40_100 })),
  item('smart', 'drive', 'disk:S3Z1NB0K1', ssd('/dev/sdi', 'S3Z1NB0K1')),
  item('smart', 'drive', 'disk:S3Z1NB0K2', ssd('/dev/sdj', 'S3Z1NB0K2')),
  item('smart', 'drive', 'disk:S4EWNX0R1', nvme('/dev/nvme0n1', 'S4EWNX0R1')),
  item('smart', 'drive', 'disk:S4EWNX0R2', nvme('/dev/nvme1n1', 'S4EWNX0R2', { media_errors: 7, percentage_used: 91, temperature_c: 58 }), { media_errors: 0, percentage_used: 90 }),
  item('zfs', 'pool', 'pool:tank', pool('tank', { capacity_pct: 83, vdev_errors: 2, size_bytes: 4.8e13 }), { capacity_pct: 82 }, 5, 'pool:tank'),
  item('zfs', 'pool', 'pool:fast', pool('fast', { scrub_age_days: 40 }), {}, 5, 'pool:fast'),
  ...tank.map((d, i) => item('zfs', 'vdev', `vdev:tank/${d}`, vdev('tank', d, 'raidz2-0', d === 'sdc' ? { checksum_errors: 2 } : {}), d === 'sdc' ? { checksum_errors: 0 } : {}, 5, 'pool:tank')),
  ...['nvme0n1', 'nvme1n1'].map((d) => item('zfs', 'vdev', `vdev:fast/${d}`, vdev('fast', d, 'mirror-0'), {}, 5, 'pool:fast')),
  ...[fs('/', 31), fs('/boot/efi', 1, { type: 'vfat' }), fs('/var/lib/vz', 74), fs('/mnt/usb-backup', 97, { read_only: true })].map((v) => item('host', 'filesystem', `fs:${v.mount}`, v, {}, 1)),
  item('host', 'filesystem', 'fs:/srv', fs('/srv', 91), { used_pct: 90 }, 1),
  item('host', 'memory', 'memory', { total_bytes: 6.8e10, available_bytes: 2.1e10, used_pct: 69.1, swap_total_bytes: 8.5e9, swap_used_pct: 3.2 }, {}, 1),
  item('host', 'cpu', 'cpu', { cores: 8, load1: 1.2, load5: 0.9, load15: 0.8, load_per_core: 0.11, temperature_c: 48 }, {}, 1),
  item('host', 'interface', 'if:eno1', nic('eno1', 9000, MTU), {}, 1),
  item('host', 'interface', 'if:eno2', nic('eno2', 9000, { ...MTU, rx_errors: 250, errors_total: 250 }), { rx_errors: 10, errors_total: 10 }, 1),
  item('host', 'interface', 'if:vmbr0', nic('vmbr0', 1500, { ...MTU, virtual: true }), {}, 1),
  item('host', 'interface', 'if:lo', nic('lo', 65536, { virtual: true, speed_mbps: undefined }), {}, 1),
  item('host', 'interface', 'if:tailscale0', nic('tailscale0', 1280, { virtual: true }), {}, 1),
  ...['smart', 'zfs', 'host'].map((c) => item(c, 'collector', `collector:${c}`, { ok: true, error: '', observations: 12 }, {}, 1)),
];
// Check-only probes (not timed): make every rule hold at least once, with values on the thresholds.
const probes = [
  item('smart', 'drive', 'disk:P1', hdd('/dev/sdx', 'P1', { passed: false, disk_failing: true, exit_code: 216, attributes_failing_now: '5 Reallocated_Sector_Ct', offline_uncorrectable: 1, selftest_latest_passed: false })),
  item('smart', 'drive', 'disk:P2', { state: 'ok', drive_class: 'hdd', passed: true, grown_defects: 5, temperature_c: 60, reallocated_sectors: 10 }, { grown_defects: 2 }),
  item('smart', 'drive', 'disk:P3', nvme('/dev/nvme2n1', 'P3', { critical_warning: 16, available_spare: 5, percentage_used: 100, temperature_c: 80 })),
  item('smart', 'drive', 'disk:P4', { ...okDrive, drive_class: 'unknown', temperature_c: 70, passed: undefined }),
  item('smart', 'drive', 'disk:/dev/sdz', { state: 'error', drive_class: 'unknown', device: '/dev/sdz', error: 'Permission denied' }),
  item('smart', 'drive', 'disk:P5', { state: 'missing', device: '/dev/sdk', model: 'ST4000VN008-2DR166', drive_class: 'unknown' }),
  item('zfs', 'pool', 'pool:bad', pool('bad', { state: 'DEGRADED', unhealthy_devices: 'sdq FAULTED', data_errors: 1, permanent_error_files: 1, permanent_errors: '/bad/f', last_scrub_errors: 3, resilvering: true, capacity_pct: 90 })),
  item('zfs', 'vdev', 'vdev:bad/sdq', vdev('bad', 'sdq', 'mirror-0', { state: 'FAULTED', note: 'too many errors', read_errors: 12, write_errors: 753 }), { read_errors: 3 }),
  item('zfs', 'vdev', 'vdev:bad/spare', vdev('bad', 'sdr', 'spares', { state: 'AVAIL' })),
  item('host', 'filesystem', 'fs:/full', fs('/full', 95)),
  item('smart', 'collector', 'collector:smart', { ok: false, error: 'smartctl: not found', observations: 0 }),
];
// ---- load the rules, build contexts, and check TS against CEL
const rulesArg = process.argv.indexOf('--rules');
const ruleSet = loadRules(rulesArg > 0 && process.argv[rulesArg + 1] ? process.argv[rulesArg + 1]! : fileURLToPath(new URL('../rules/', import.meta.url))), all = ruleSet.rules;
// CEL is compared with TS on the rules that have a TS version; the rest are CEL-only (listed, never fatal).
const rules = all.filter((r) => TS[r.id] !== undefined), celOnly = all.filter((r) => TS[r.id] === undefined);
const stale = Object.keys(TS).filter((id) => !all.some((r) => r.id === id)); // a TS version whose rule is gone: ignored, listed
const build = (p: Omit<Item, 'ctx' | 'rules'>): Item => ({ ...p, ctx: contextFor(p.obs, p.prev, p.history, NOW), rules: rulesFor(rules, p.obs) });
const items = round.map(build);
// CEL-only rules that apply to the workload: timed in CEL alone; their errors on it are counted, not fatal.
const celOnlyItems = items.map((it) => ({ it, rules: rulesFor(celOnly, it.obs) })).filter((x) => x.rules.length > 0);
const celOnlyUse = new Map(celOnly.map((r) => [r.id, { evals: 0, held: 0, errors: 0 }]));
for (const { it, rules: rs } of celOnlyItems)
  for (const r of rs) {
    const u = celOnlyUse.get(r.id)!;
    u.evals++;
    try { if (r.when(it.ctx)) u.held++; } catch { u.errors++; }
  }
const held = new Set<string>();
for (const it of [...items, ...probes.map(build)]) {
  const { values: v, delta: d, rate: r } = it.ctx;
  for (const rule of it.rules) {
    const ts = tsOf(rule);
    let cel: boolean | string;
    try { cel = rule.when(it.ctx); } catch (e) { cel = `error: ${(e as Error).message.split('\n')[0]}`; }
    const mine = ts.when(v, d, r, it.obs.subject);
    if (cel !== mine) fail(`rule ${rule.id} disagrees on ${it.obs.subject}: CEL ${cel}, TS ${mine}\n  when: ${rule.text.when}\n  values: ${JSON.stringify(v)}\n  delta: ${JSON.stringify(d)} rate: ${JSON.stringify(r)}`);
    if (!mine) continue;
    held.add(rule.id);
    const celEsc = rule.escalate.find((e) => e.when(it.ctx))?.severity ?? rule.severity;
    const tsEsc = ts.esc?.(v, d, r, it.obs.subject) ? 'critical' : rule.severity;
    if (celEsc !== tsEsc) fail(`rule ${rule.id} escalation disagrees on ${it.obs.subject}: CEL ${celEsc}, TS ${tsEsc}`);
  }
}
const never = rules.filter((r) => !held.has(r.id)).map((r) => r.id);
if (never.length) fail(`the agreement check never made these rules hold (add a probe): ${never.join(', ')}`);
// ---- timing
const evalsPerPass = items.reduce((n, it) => n + it.rules.length, 0);
function timed(pass: () => void, evals = evalsPerPass): { obsPerS: number; nsPerEval: number } {
  for (const end = performance.now() + WARMUP_MS; performance.now() < end; ) pass();
  const t0 = performance.now(), end = t0 + SECONDS * 1000;
  let passes = 0, t: number;
  do { pass(); passes++; } while ((t = performance.now()) < end);
  const s = (t - t0) / 1000;
  return { obsPerS: (passes * items.length) / s, nsPerEval: (s * 1e9) / (passes * evals) };
}
const pairs = items.map((it) => ({ it, ts: it.rules.map(tsOf) }));
const celWhen = () => { for (const { it } of pairs) for (const r of it.rules) if (r.when(it.ctx)) sink++; };
const celOnlyEvals = celOnlyItems.reduce((n, x) => n + x.rules.length, 0);
const celOnlyWhen = () => { for (const { it, rules: rs } of celOnlyItems) for (const r of rs) { try { if (r.when(it.ctx)) sink++; } catch { sink--; } } };
const tsWhen = () => { for (const { it, ts } of pairs) { const c = it.ctx; for (const t of ts) if (t.when(c.values, c.delta, c.rate, c.subject)) sink++; } };
const states = items.map(() => new Map<string, RuleState>());
let firing = 0;
const celFull = () => {
  firing = 0;
  items.forEach((it, i) => {
    const ctx = contextFor(it.obs, it.prev, it.history, NOW);
    for (const r of rulesFor(rules, it.obs)) {
      const out = evaluateRule(r, it.obs, ctx, states[i]!.get(r.id));
      states[i]!.set(r.id, out.state);
      if (out.anomaly) { sink += out.anomaly.summary.length; firing++; }
    }
  });
};
const tsFull = () => {
  for (const it of items) {
    const c = contextFor(it.obs, it.prev, it.history, NOW);
    for (const r of rulesFor(rules, it.obs)) {
      const t = TS[r.id]!;
      if (!t.when(c.values, c.delta, c.rate, c.subject)) continue;
      const severity = t.esc?.(c.values, c.delta, c.rate, c.subject) ? 'critical' : r.severity;
      sink += t.summary(c.values, c.delta, c.rate, c.subject).length + severity.length;
    }
  }
};
// ---- parsers
const fixtures = (dir: string, re: RegExp) => readdirSync(sharedFixture(dir)).filter((f) => re.test(f)).sort()
  .map((f) => ({ name: f, text: readFileSync(sharedFixture(dir, f), 'utf8') }));
function usPerDoc(fn: () => unknown): number {
  let k = 1;
  const batch = () => { const t0 = performance.now(); for (let i = 0; i < k; i++) sink += fn() ? 1 : 0; return performance.now() - t0; };
  while (batch() < SAMPLE_MS) k *= 2; // each sample ≥ 0.2 ms (full run), so the clock's resolution does not matter
  const samples = Array.from({ length: SAMPLES }, () => (batch() * 1000) / k).sort((a, b) => a - b);
  return samples[SAMPLES >> 1]!;
}
const smartArgs = (doc: { smartctl?: { exit_status?: number }; device?: { type?: string } }) => [doc.smartctl?.exit_status ?? 0, { device: '/dev/sda', type: doc.device?.type ?? 'sat' }] as const;
const json = (t: string) => () => JSON.parse(t) as unknown;
const lines = (t: string) => () => t.split('\n');
const groups: { title: string; docs: { name: string; text: string }[]; parse: (text: string) => () => unknown; base: typeof json | typeof lines }[] = [
  { title: 'parseSmartctl (smartctl/*.json)', docs: fixtures('smartctl', /\.json$/), parse: (t) => { const [code, dev] = smartArgs(JSON.parse(t)); return () => parseSmartctl(t, code, dev, 3); }, base: json },
  { title: 'parseZpoolStatusText (zpool/status-*.txt)', docs: fixtures('zpool', /^status-.*\.txt$/), parse: (t) => () => parseZpoolStatusText(t), base: lines },
  { title: 'parseZpoolStatusJson (zpool/status-j-*.json)', docs: fixtures('zpool', /^status-j-.*\.json$/), parse: (t) => () => parseZpoolStatusJson(t), base: json },
  { title: 'parseZpoolList (zpool/list-*.txt)', docs: fixtures('zpool', /^list-.*\.txt$/), parse: (t) => () => parseZpoolList(t), base: lines },
];
// ---- run and print
const f1 = (n: number) => n.toFixed(1), big = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`labwatch rules benchmark  ${new Date().toISOString()}  Node ${process.version}  ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'})`);
if (SMOKE) console.log('SMOKE RUN (--smoke): the agreement check in full, the timings too short to mean anything');
console.log(`${SECONDS} s per measurement after ${WARMUP_MS} ms warm-up; ${all.length} rules from ${ruleSet.files.length} files: ${rules.length} compared with TypeScript, ${celOnly.length} CEL-only`);
console.log(`workload: ${items.length} observations, ${evalsPerPass} rule evaluations per round, ${HISTORY} history points per subject`);
console.log(`agreement: TS = CEL for every condition and escalation on ${items.length} observations + ${probes.length} probes; all ${rules.length} compared rules held at least once`);
if (stale.length) console.log(`note: TS has versions of rules that no longer exist (ignored; remove them): ${stale.join(', ')}`);
console.log('');
console.log('1. rule evaluation                  observations/s   ns/rule eval   CEL/TS time');
for (const [label, cel, ts] of [['(a) conditions only', celWhen, tsWhen], ['(b) full evaluation', celFull, tsFull]] as const) {
  const c = timed(cel), t = timed(ts);
  console.log(`   ${label.padEnd(22)} CEL     ${big(c.obsPerS).padStart(13)}   ${f1(c.nsPerEval).padStart(12)}   ${(c.nsPerEval / t.nsPerEval).toFixed(1).padStart(10)}x`);
  console.log(`   ${''.padEnd(22)} TS      ${big(t.obsPerS).padStart(13)}   ${f1(t.nsPerEval).padStart(12)}`);
}
console.log(`   (b) fires ${firing} anomalies per round once for-state settles`);
if (celOnly.length) {
  const c = celOnlyEvals ? timed(celOnlyWhen, celOnlyEvals) : undefined;
  console.log(`\n   CEL-only (no TypeScript version in bench/rules.ts)${c ? `: conditions ${f1(c.nsPerEval)} ns per rule eval over ${celOnlyEvals} evals per round` : ''}`);
  for (const r of celOnly) {
    const u = celOnlyUse.get(r.id)!;
    const why = r.query ? 'PromQL rule: runs on Prometheus series, not on these readings'
      : u.evals ? `on ${u.evals} observations of the round, held on ${u.held}${u.errors ? `, CEL error on ${u.errors}` : ''}`
      : `no ${r.source}/${r.kind} observation in the round`;
    console.log(`     ${r.id.padEnd(40)} ${why}`);
  }
}
console.log('');
console.log(`2. parse time per document (median of ${SAMPLES} samples)${' '.repeat(SMOKE ? 21 : 19)}bytes    µs/doc   baseline µs/doc   ratio`);
for (const g of groups) {
  console.log(`   ${g.title}   baseline: ${g.base === json ? 'JSON.parse' : "text.split('\\n')"}`);
  for (const d of g.docs) {
    let us: number | string;
    try { g.parse(d.text)(); us = usPerDoc(g.parse(d.text)); } catch (e) { us = `throws ${(e as Error).name}`; }
    const base = usPerDoc(g.base(d.text));
    console.log(`     ${d.name.padEnd(61)} ${String(Buffer.byteLength(d.text)).padStart(7)} ${(typeof us === 'number' ? f1(us) : us).padStart(9)} ${f1(base).padStart(17)} ${typeof us === 'number' ? `${(us / base).toFixed(1)}x`.padStart(7) : ''}`);
  }
}
process.exit(sink === -1 ? 1 : 0); // the script exits by itself (and sink is used)
