/**
 * `zpool status` text output → PoolHealth[] (every pool in the output).
 *
 * Format facts relied on (see ../shared/fixtures/zpool/SOURCES.md for the real outputs):
 * - header lines are right-aligned `  pool:`, ` state:`, `status:`, `   see:`, `  scan:`, `config:`,
 *   `errors:`; their continuation lines are indented (a tab from zpool, 8 spaces when pasted);
 * - the config table is indented with tabs by zpool but often with spaces in copies, so rows are
 *   split on whitespace and the tree comes from the width of the leading whitespace, never offsets;
 * - counters can be abbreviated (`1.37K`), and whatever follows them is a free-text note.
 *
 * This file also holds the helpers the JSON and `zpool list` parsers share (ZpoolParseError, size
 * and count parsing, vdev kinds), so that the split into three parsers needs no fourth file.
 *
 * Every regular expression here runs in linear time on any line (a backtracking one took seconds
 * on a 40,000-digit line and blocked the event loop): each is anchored, or its quantifiers are
 * bounded and it starts only at the beginning of a run (a lookbehind), or it is plain string code.
 * test/connectors/parsers-adversarial.test.ts holds them to that with 1 MB lines.
 */
import type { PoolErrors, PoolHealth, ScanState, Vdev, VdevCounters, VdevGroup } from './types.ts';

/** Output that is not zpool's (or not the zpool command the parser was asked for). */
export class ZpoolParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZpoolParseError';
  }
}

/** The first non-blank line of some output, quoted and shortened for an error message. */
export function quoteFirstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) return 'empty output';
  return quoted(line);
}

/** Text quoted for an error message, cut to 100 characters: a 1 MB row must not become a 1 MB message every poll. */
export function quoted(text: string): string {
  const t = text.trim();
  return `"${t.length > 100 ? `${t.slice(0, 100)}…` : t}"`;
}

const BINARY_UNITS = 'BKMGTPEZ';

/**
 * A zpool size → bytes: exact integers (`-p`) or zfs_nicebytes' binary units (`0B`, `28.5K`,
 * `1.03T`, K = 1024). A comma decimal separator (some locales) is accepted. `-` and junk → undefined.
 */
export function parseBytes(s: string | number | undefined): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) ? s : undefined;
  if (s === undefined) return undefined;
  const m = /^(\d+(?:[.,]\d+)?)([BKMGTPEZ])?$/i.exec(s.trim());
  if (!m) return undefined;
  const power = m[2] ? BINARY_UNITS.indexOf(m[2].toUpperCase()) : 0;
  return Math.round(Number(m[1]!.replace(',', '.')) * 1024 ** power);
}

/**
 * An error counter → number. zpool formats counters with zfs_nicenum, which divides by 1024, so
 * `1.37K` → 1403 (the printed value is rounded: the true count is within a few of it).
 */
const COUNTER_K = 1024;
const COUNTER_SUFFIXES = ' KMGTPE';

export function parseCount(s: string | number | undefined): number | undefined {
  if (typeof s === 'number') return Number.isFinite(s) ? s : undefined;
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMGTPE])?$/.exec(s.trim());
  if (!m) return undefined;
  const power = m[2] ? COUNTER_SUFFIXES.indexOf(m[2]) : 0;
  return Math.round(Number(m[1]) * COUNTER_K ** power);
}

/** The kind of a vdev from the name zpool prints for it. */
export function vdevKindFromName(name: string): Vdev['kind'] {
  if (/^mirror(-\d+)?$/.test(name)) return 'mirror';
  if (/^raidz[1-3]?(-\d+)?$/.test(name)) return 'raidz';
  if (/^draid[1-3]?:/.test(name)) return 'draid';
  if (/^draid\d+-\d+-\d+$/.test(name)) return 'draid-spare';
  if (/^replacing(-\d+)?$/.test(name)) return 'replacing';
  if (/^spare(-\d+)?$/.test(name)) return 'spare';
  if (name.startsWith('/') && !name.startsWith('/dev/')) return 'file';
  return 'disk';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A ctime-style date as zpool prints it ("Sun Nov  3 15:24:53 2024", optionally with AM/PM and a
 * zone abbreviation as in some `-j` outputs) → ISO 8601, read as the host's local time.
 */
export function parseZpoolDate(s: string): string | undefined {
  const m = /([A-Z][a-z]{2})\s{1,4}(\d{1,2})\s{1,4}(\d{1,2}):(\d{2}):(\d{2})(?:\s{1,4}([AP]M))?(?:\s{1,4}[A-Z][A-Za-z0-9+-]{1,5})?\s{1,4}(\d{4})\b/.exec(s);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  let hour = Number(m[3]);
  if (m[6] === 'PM' && hour < 12) hour += 12;
  if (m[6] === 'AM' && hour === 12) hour = 0;
  const d = new Date(Number(m[7]), month, Number(m[2]), hour, Number(m[4]), Number(m[5]));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

// ---------------------------------------------------------------------------------------------

/** A header line: at most 6 leading spaces (never a tab), a lower-case word, a colon. */
const KEY = /^ {0,6}([a-z]+):/;

/**
 * A header line's key and the text after `key:` (blanks after the colon dropped); undefined for
 * any other line (`key:text`, or a line with a lone CR or U+2028/9, as `key:[ \t]+(.*)$` said).
 */
function keyLine(line: string): { key: string; first: string } | undefined {
  const m = KEY.exec(line);
  if (!m) return undefined;
  const rest = line.slice(m[0].length);
  if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\t') return undefined;
  if (/[\r\u2028\u2029]/.test(rest)) return undefined;
  return { key: m[1]!, first: rest.replace(/^[ \t]+/, '') };
}

interface Section {
  key: string;
  /** the text after `key:` */
  first: string;
  /** continuation lines, as printed (blank ones dropped) */
  more: string[];
}

/** A Map: a row named `constructor` is not a group header. */
const GROUP_HEADERS = new Map<string, VdevGroup>([
  ['logs', 'logs'],
  ['cache', 'cache'],
  ['spares', 'spares'],
  ['special', 'special'],
  ['dedup', 'dedup'],
]);

export function parseZpoolStatusText(text: string): PoolHealth[] {
  const pools: Section[][] = [];
  let current: Section | undefined;
  for (const line of text.split(/\r?\n/)) {
    const key = keyLine(line);
    if (key) {
      current = { key: key.key, first: key.first.trimEnd(), more: [] };
      if (current.key === 'pool') pools.push([]);
      pools.at(-1)?.push(current);
    } else if (line.trim() !== '' && current) {
      current.more.push(line.trimEnd());
    }
  }
  if (pools.length === 0) {
    throw new ZpoolParseError(
      `expected \`zpool status\` text output with a "pool:" line; the first line received was ${quoteFirstLine(text)}`,
    );
  }
  return pools.map(poolFrom);
}

function poolFrom(sections: Section[]): PoolHealth {
  const get = (key: string) => sections.find((s) => s.key === key);
  const joined = (key: string) => {
    const s = get(key);
    return s ? [s.first, ...s.more.map((l) => l.trim())].filter((l) => l !== '').join(' ') : undefined;
  };
  const name = get('pool')!.first.trim();
  const pool: PoolHealth = {
    name,
    subject: `pool:${name}`,
    state: get('state')?.first.trim() ?? '',
    scan: scanFrom(get('scan')),
    groups: {},
  };
  const status = joined('status');
  const action = joined('action');
  const see = joined('see');
  if (status !== undefined) pool.status = status;
  if (action !== undefined) pool.action = action;
  if (see !== undefined) pool.see = see;
  const msgid = msgidIn(see);
  if (msgid) pool.msgid = msgid;
  const config = get('config');
  if (config) Object.assign(pool, configFrom(config.more));
  const errors = errorsFrom(sections.filter((s) => s.key === 'errors'));
  if (errors) pool.errors = errors;
  return pool;
}

/** The ZFS-8000-xx id in a `see:` link or a JSON msgid field (any host: openzfs-docs, zfsonlinux.org, illumos.org, sun.com). */
export function msgidIn(s: string | undefined): string | undefined {
  return s === undefined ? undefined : /\b(ZFS-8000-[0-9A-Z]{2})\b/.exec(s)?.[1];
}

// ---- scan: ----------------------------------------------------------------------------------

/** The `scan:` text as its first line and continuation lines, for zpool output relayed by others (Proxmox's API). */
export function scanFromLines(first: string, more: string[] = []): ScanState {
  return scanFrom({ key: 'scan', first, more });
}

function scanFrom(section: Section | undefined): ScanState {
  if (!section) return { kind: 'none', state: 'none' };
  const more = section.more.map((l) => l.trim());
  const first = section.first.trim();
  const all = [first, ...more].join('\n');
  const scan: ScanState = { kind: 'none', state: 'none', text: all };
  const kind = /^(scrub|resilver)\b/.exec(first)?.[1] as 'scrub' | 'resilver' | undefined;
  let finished: ReturnType<typeof finishedScan>;
  let since: string | undefined;
  if ((finished = finishedScan(first))) {
    scan.kind = finished.kind;
    scan.state = 'finished';
    setIf(scan, 'repairedBytes', parseBytes(finished.repaired));
    scan.errors = finished.errors;
    setIf(scan, 'endedAt', parseZpoolDate(finished.on));
  } else if (kind && (since = lastAfter(first, 'in progress since ', kind.length)) !== undefined) {
    scan.kind = kind;
    scan.state = 'running';
    setIf(scan, 'startedAt', parseZpoolDate(since));
  } else if (kind && (since = lastAfter(first, 'canceled on ', kind.length)) !== undefined) {
    scan.kind = kind;
    scan.state = 'canceled';
    setIf(scan, 'endedAt', parseZpoolDate(since));
  } else if (kind) {
    scan.kind = kind;
  }
  if (/\bpaused\b/.test(all) && scan.kind !== 'none') scan.state = 'paused';
  if (scan.state === 'running' || scan.state === 'paused') {
    const rest = more.join('\n');
    const pct = /(?<!\d)(\d{1,3}(?:[.,]\d{1,6})?)% done/.exec(rest);
    if (pct) scan.progressPct = Number(pct[1]!.replace(',', '.'));
    const repaired = /(?<!\S)(\S{1,32}) (?:repaired|resilvered)\b/.exec(rest);
    if (repaired) setIf(scan, 'repairedBytes', parseBytes(repaired[1]));
    setIf(scan, 'secondsToGo', secondsToGo(rest));
  }
  return scan;
}

/**
 * `scrub repaired 0B in 00:00:00 with 0 errors on <date>` / `resilvered 1.2G in … with 0 errors on …`:
 * what `^(scrub repaired|resilvered) (\S+) in (.+?) with (\d+) errors? on (.+)$` matched, in linear time.
 */
function finishedScan(first: string): { kind: 'scrub' | 'resilver'; repaired: string; errors: number; on: string } | undefined {
  const head = /^(scrub repaired|resilvered) (\S+) in /.exec(first);
  if (!head) return undefined;
  const rest = first.slice(head[0].length);
  const tail = / with (\d{1,15}) errors? on /g;
  for (let m = tail.exec(rest); m; m = tail.exec(rest)) {
    const on = rest.slice(m.index + m[0].length);
    if (m.index > 0 && on !== '') return { kind: head[1] === 'resilvered' ? 'resilver' : 'scrub', repaired: head[2]!, errors: Number(m[1]), on };
  }
  return undefined;
}

/** The text after the last `marker` that starts a word at or after `from`, if any follows it (as `^…\b.*\bmarker(.+)$`). */
function lastAfter(s: string, marker: string, from: number): string | undefined {
  for (let i = s.lastIndexOf(marker); i >= from && i > 0; i = s.lastIndexOf(marker, i - 1)) {
    if (/\w/.test(s[i - 1]!) || i + marker.length >= s.length) continue;
    return s.slice(i + marker.length);
  }
  return undefined;
}

/** "123h32m to go" (ZoL 0.7), "00:03:21 to go", "1 days 02:03:04 to go"; none for "no estimated completion time". */
function secondsToGo(s: string): number | undefined {
  let m = /(?<!\d)(?:(\d{1,6}) days? )?(\d{1,6}):(\d{2}):(\d{2}) to go/.exec(s);
  if (m) return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  m = /(?<!\d)(\d{1,6})h(\d{1,2})m to go/.exec(s);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  return undefined;
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

// ---- config: --------------------------------------------------------------------------------

/** Width of the leading whitespace, tabs expanded to the next multiple of 8 as a terminal shows them. */
function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w += 1;
    else if (ch === '\t') w = (Math.floor(w / 8) + 1) * 8;
    else break;
  }
  return w;
}

/** Takes `n` whitespace-separated tokens off the front of `s`; returns them and the rest (trimmed). */
function takeTokens(s: string, n: number): { tokens: string[]; rest: string } {
  const tokens: string[] = [];
  let rest = s.trim();
  while (tokens.length < n && rest !== '') {
    const m = /^(\S+)\s*/.exec(rest)!;
    tokens.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return { tokens, rest };
}

function vdevFromRow(row: string): Vdev {
  const { tokens, rest } = takeTokens(row, 5);
  const [name = '', state = '', r, w, c] = tokens;
  const vdev: Vdev = { name, kind: vdevKindFromName(name), state, children: [] };
  const read = parseCount(r);
  const write = parseCount(w);
  const checksum = parseCount(c);
  let note: string;
  if (read !== undefined && write !== undefined && checksum !== undefined) {
    vdev.counters = { read, write, checksum };
    note = rest;
  } else {
    // no counters (spares: "AVAIL", "INUSE     currently in use"): the note starts after the state
    note = takeTokens(row, 2).rest;
  }
  if (note !== '') {
    vdev.note = note;
    const was = /\bwas (\S+)/.exec(note);
    if (was) vdev.wasPath = was[1]!;
    if (/\(resilvering\)/.test(note)) vdev.resilvering = true;
  }
  return vdev;
}

/** Deeper than any real vdev tree (root, raidz, replacing, spare, disk). */
const MAX_TREE_DEPTH = 32;

function configFrom(rows: string[]): { groups: PoolHealth['groups']; counters?: VdevCounters } {
  const out: { groups: PoolHealth['groups']; counters?: VdevCounters } = { groups: {} };
  const headerAt = rows.findIndex((r) => /^\s*NAME\s+STATE\b/.test(r));
  if (headerAt < 0) return out;
  let rootIndent: number | undefined;
  let group: VdevGroup = 'data';
  let stack: { indent: number; vdev: Vdev }[] = [];
  for (const row of rows.slice(headerAt + 1)) {
    const indent = indentWidth(row);
    if (rootIndent === undefined) {
      // the first row is the pool itself: it carries the pool-level counters
      rootIndent = indent;
      const root = vdevFromRow(row);
      if (root.counters) out.counters = root.counters;
      continue;
    }
    if (indent <= rootIndent) {
      const word = row.trim().split(/\s+/)[0]!;
      const g = GROUP_HEADERS.get(word);
      if (g) {
        group = g;
        stack = [];
      }
      continue; // anything else at the pool's level is not a vdev of this pool
    }
    const vdev = vdevFromRow(row);
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    // Real trees are a few levels deep; thousands of ever-deeper rows overflowed the stack of every reader of the tree.
    if (stack.length >= MAX_TREE_DEPTH) throw new ZpoolParseError(`expected a \`zpool status\` config table, but its rows nest more than ${MAX_TREE_DEPTH} levels deep at ${quoted(row)}`);
    const parent = stack.at(-1);
    if (parent) parent.vdev.children.push(vdev);
    else (out.groups[group] ??= []).push(vdev);
    stack.push({ indent, vdev });
  }
  return out;
}

// ---- errors: --------------------------------------------------------------------------------

function errorsFrom(sections: Section[]): PoolErrors | undefined {
  if (sections.length === 0) return undefined;
  let count: number | undefined;
  let listUnavailable = false;
  let unavailableBecause: string | undefined;
  const permanentFiles: string[] = [];
  const text: string[] = [];
  for (const s of sections) {
    const first = s.first.trim();
    text.push(first, ...s.more.map((l) => l.trim()));
    const n = /^(\d+) data errors?\b/.exec(first);
    if (/^No known data errors/.test(first)) count ??= 0;
    else if (n) count = Math.max(count ?? 0, Number(n[1]));
    else if (/^List of errors unavailable/.test(first)) {
      listUnavailable = true;
      const why = /^List of errors unavailable:\s*(.+)$/.exec(first)?.[1]?.trim();
      if (why) unavailableBecause = why;
    }
    if (/^Permanent errors have been detected/.test(first)) permanentFiles.push(...s.more.map((l) => l.trim()));
  }
  // No floor: "List of errors unavailable" alone (a suspended pool) gives no count, and a count
  // zpool did not print is not reported (counted: false says so).
  return {
    dataErrors: Math.max(count ?? 0, permanentFiles.length),
    counted: count !== undefined || permanentFiles.length > 0,
    permanentFiles,
    listUnavailable,
    ...(unavailableBecause ? { unavailableBecause } : {}),
    text: text.join('\n'),
  };
}
