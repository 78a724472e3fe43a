/**
 * `zpool status -j` (OpenZFS ≥ 2.3) → PoolHealth[].
 *
 * By default every number is a string ("0", "62.6G", "1.37K"); `--json-int` makes them integers.
 * The vdev tree is nested `vdevs` objects keyed by name; the pool's own `vdevs` holds one root
 * vdev named like the pool whose children are the data vdevs. Allocation classes are top-level
 * keys of the pool (`dedup`, `special`; `logs`, `l2cache`, `spares` when present). Vdev states
 * can be words the text form never prints ("HEALTHY"): they are kept as they are.
 *
 * Mapped only from what the man-page fixture shows or shared/fixtures/README.md documents; every
 * field is optional here.
 */
import type { PoolErrors, PoolHealth, ScanState, Vdev, VdevCounters, VdevGroup } from './types.ts';
import { ZpoolParseError, msgidIn, parseBytes, parseCount, parseZpoolDate, quoteFirstLine, quoted, vdevKindFromName } from './parse-status-text.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const countOf = (v: unknown): number | undefined => (typeof v === 'number' || typeof v === 'string' ? parseCount(v) : undefined);

/** Parses zpool's JSON and checks the envelope: `{output_version: {command}, pools: {…}}`. */
export function parseZpoolJsonEnvelope(text: string, command: 'zpool status' | 'zpool list'): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ZpoolParseError(
      `expected \`${command} -j\` JSON output, but it is not valid JSON; the first line received was ${quoteFirstLine(text)}`,
    );
  }
  if (!isObject(doc) || !isObject(doc.pools)) {
    throw new ZpoolParseError(
      `expected \`${command} -j\` JSON output with a "pools" object; the first line received was ${quoteFirstLine(text)}`,
    );
  }
  const got = isObject(doc.output_version) ? str(doc.output_version.command) : undefined;
  if (got !== undefined && got !== command) {
    throw new ZpoolParseError(`expected \`${command} -j\` JSON output, but output_version.command is ${quoted(got)}`);
  }
  return doc.pools;
}

/** vdev_type → kind; unknown or absent types (`constructor` too: a Map) fall back to the name, as in the text form. */
const KIND_BY_TYPE = new Map<string, Vdev['kind']>([
  ['mirror', 'mirror'],
  ['raidz', 'raidz'],
  ['draid', 'draid'],
  ['dspare', 'draid-spare'],
  ['replacing', 'replacing'],
  ['spare', 'spare'],
  ['disk', 'disk'],
  ['file', 'file'],
]);

function countersOf(v: Json): VdevCounters | undefined {
  const read = countOf(v.read_errors);
  const write = countOf(v.write_errors);
  const checksum = countOf(v.checksum_errors);
  return read !== undefined && write !== undefined && checksum !== undefined ? { read, write, checksum } : undefined;
}

/**
 * Real trees are a few levels deep (root, raidz, replacing, spare, disk); a deeper one is not
 * zpool's, and recursing into 5,000 levels overflowed the stack (a RangeError, not an error of ours).
 */
const MAX_VDEV_DEPTH = 32;

function childrenOf(v: Json, depth: number): Vdev[] {
  if (!isObject(v.vdevs)) return [];
  if (depth > MAX_VDEV_DEPTH) throw new ZpoolParseError(`expected \`zpool status -j\` JSON output, but its vdev tree is more than ${MAX_VDEV_DEPTH} levels deep`);
  return Object.entries(v.vdevs).flatMap(([key, child]) => (isObject(child) ? [vdevFrom(key, child, depth + 1)] : []));
}

function vdevFrom(key: string, v: Json, depth: number): Vdev {
  const name = str(v.name) ?? key;
  const type = str(v.vdev_type);
  const vdev: Vdev = {
    name,
    kind: (type !== undefined ? KIND_BY_TYPE.get(type) : undefined) ?? vdevKindFromName(name),
    state: str(v.state) ?? '',
    children: childrenOf(v, depth),
  };
  const counters = countersOf(v);
  if (counters) vdev.counters = counters;
  return vdev;
}

/** Allocation-class keys of a pool object → the groups of PoolHealth. */
const CLASS_KEYS: [string, VdevGroup][] = [
  ['logs', 'logs'],
  ['l2cache', 'cache'],
  ['spares', 'spares'],
  ['special', 'special'],
  ['dedup', 'dedup'],
];

/** `start_time`/`end_time`: a ctime-like string by default, epoch seconds with `--json-int`. */
function timeOf(v: unknown): string | undefined {
  if (typeof v === 'number') return epochTime(v);
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return epochTime(Number(v));
  return parseZpoolDate(v);
}

/** Epoch seconds → ISO 8601; undefined for 0 and for what a Date cannot hold (toISOString would throw). */
function epochTime(seconds: number): string | undefined {
  const d = new Date(seconds * 1000);
  return seconds > 0 && Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
}

/** Lines joined with one space, blanks around each line break dropped (as zpool's text form is read), in linear time. */
function joinLines(s: string): string {
  const lines = s.split('\n');
  return lines
    .map((l, i) => {
      let x = i > 0 ? l.trimStart() : l;
      if (i < lines.length - 1) {
        let end = x.length;
        while (end > 0 && (x[end - 1] === ' ' || x[end - 1] === '\t')) end--;
        x = x.slice(0, end);
      }
      return x;
    })
    .filter((x, i) => i === 0 || x !== '')
    .join(' ')
    .trim();
}

/**
 * `scan_stats` (README: `function`, `state`, `start_time`, … as in pdf/zfs_exporter#5 and PR #64):
 * function SCRUB/RESILVER/NONE, state SCANNING/FINISHED/CANCELED/NONE, `processed` = bytes
 * repaired (what the text form prints as "repaired"/"resilvered"), `errors`.
 */
function scanFrom(s: unknown): ScanState {
  if (!isObject(s)) return { kind: 'none', state: 'none' };
  const fn = (str(s.function) ?? '').toUpperCase();
  const st = (str(s.state) ?? '').toUpperCase();
  const kind: ScanState['kind'] = fn.includes('SCRUB') ? 'scrub' : fn.includes('RESILVER') ? 'resilver' : 'none';
  if (kind === 'none') return { kind: 'none', state: 'none' };
  const state: ScanState['state'] = st.includes('PAUSE')
    ? 'paused'
    : st === 'SCANNING'
      ? 'running'
      : st === 'FINISHED'
        ? 'finished'
        : st === 'CANCELED' || st === 'CANCELLED'
          ? 'canceled'
          : 'none';
  const scan: ScanState = { kind, state };
  const startedAt = timeOf(s.start_time);
  if (startedAt) scan.startedAt = startedAt;
  if (state === 'finished' || state === 'canceled') {
    const endedAt = timeOf(s.end_time);
    if (endedAt) scan.endedAt = endedAt;
  }
  const repaired = typeof s.processed === 'number' || typeof s.processed === 'string' ? parseBytes(s.processed) : undefined;
  if (repaired !== undefined) scan.repairedBytes = repaired;
  const errors = countOf(s.errors);
  if (errors !== undefined) scan.errors = errors;
  return scan;
}

/** `error_count` → PoolErrors. JSON has no errors line, so `text` is empty. */
function errorsFrom(v: unknown): PoolErrors | undefined {
  const n = countOf(v);
  return n === undefined ? undefined : { dataErrors: n, counted: true, permanentFiles: [], listUnavailable: false, text: '' };
}

function poolFrom(key: string, p: Json): PoolHealth {
  const name = str(p.name) ?? key;
  const pool: PoolHealth = { name, subject: `pool:${name}`, state: str(p.state) ?? '', scan: scanFrom(p.scan_stats), groups: {} };
  // "OK" (the man-page example) is zpool's no-problem status, which the text form does not print.
  // Line breaks ("…An\n\tattempt…") are joined with one space, as the text parser joins lines.
  const raw = str(p.status);
  const status = raw === undefined ? undefined : joinLines(raw);
  if (status && status !== 'OK') pool.status = status;
  // status_callback_json() adds "action", and "msgid"/"moreinfo" when the status has a message id
  // (which of the two holds the link varies: take the id from either, the link from whichever is one).
  const action = str(p.action);
  if (action) pool.action = joinLines(action);
  const msgid = msgidIn(str(p.msgid)) ?? msgidIn(str(p.moreinfo));
  if (msgid) {
    pool.msgid = msgid;
    const link = [str(p.moreinfo), str(p.msgid)].find((x) => x !== undefined && /^https?:\/\//.test(x));
    pool.see = link ?? `https://openzfs.github.io/openzfs-docs/msg/${msgid}`;
  }
  const roots = isObject(p.vdevs) ? p.vdevs : {};
  const root = isObject(roots[name]) ? roots[name] : Object.values(roots).find(isObject);
  if (root) {
    const counters = countersOf(root);
    if (counters) pool.counters = counters;
    const data = childrenOf(root, 1);
    if (data.length > 0) pool.groups.data = data;
  }
  for (const [k, group] of CLASS_KEYS) {
    const cls = p[k];
    if (!isObject(cls)) continue;
    const vdevs = Object.entries(cls).flatMap(([n, v]) => (isObject(v) ? [vdevFrom(n, v, 1)] : []));
    if (vdevs.length > 0) pool.groups[group] = vdevs;
  }
  const errors = errorsFrom(p.error_count);
  if (errors) pool.errors = errors;
  return pool;
}

export function parseZpoolStatusJson(text: string): PoolHealth[] {
  const pools = parseZpoolJsonEnvelope(text, 'zpool status');
  return Object.entries(pools).flatMap(([key, p]) => (isObject(p) ? [poolFrom(key, p)] : []));
}
