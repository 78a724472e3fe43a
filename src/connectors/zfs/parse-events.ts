/**
 * `zpool events` and `zpool events -v` → ZpoolEvent[] (oldest first, as zpool prints them).
 *
 * The form (zpool_main.c: zpool_do_events_next / _short / _nvprint):
 * - a header `TIME<26 spaces> CLASS` (absent with -H), then per event a line
 *   `Mar 25 2015 00:21:12.736548371 resource.fs.zfs.statechange` (one-digit days are space-padded: `Mar  2`);
 *   `dropped N events` when the kernel's queue overflowed (summed into `dropped`).
 * - with -v each event line is followed by its payload, one `key = value` per line indented 8 spaces and
 *   a blank line. Values: `0x…` numbers, `"strings"`, arrays printed as values joined by spaces (often
 *   with a trailing space, or nothing at all for an empty array), newer zpools print some enums as
 *   `"ONLINE" (0x7)`.
 * - a nested nvlist is `key = (embedded nvlist)`, its pairs 8 spaces deeper, then `(end key)`; an
 *   nvlist array is `key = (N embedded nvlists)`, `key[i] = (embedded nvlist)` … `(end key[i])` … `(end key)`.
 *   Nested keys are kept, PREFIXED with their parents joined by dots: `detector.pool`, `detector.vdev`
 *   (an array element: `key.key[0].name`), so they never overwrite the event's own `pool` or `vdev_*`.
 *
 * Values lose the quotes of a quoted string (`"zroot"` → `zroot`; `"ONLINE" (0x7)` → `ONLINE`); everything
 * else stays as printed, trailing spaces trimmed (`0x7`, `0x551237b8 0x2be6d613`), except `eid`, which
 * also becomes a number. Lines that are none of these are skipped (a stray error line, a shell prompt).
 * Input with neither a header nor an event line throws ZpoolParseError.
 */
import { ZpoolParseError, quoteFirstLine } from './parse-status-text.ts';

export interface ZpoolEvent {
  /** as printed, e.g. "Mar 25 2015 00:21:12.736548371" (the host's local time) */
  time: string;
  /** e.g. ereport.fs.zfs.io, resource.fs.zfs.statechange, sysevent.fs.zfs.scrub_start */
  class: string;
  /** -v only: the payload's `pool` (older statechange events carry only pool_guid) */
  pool?: string;
  poolGuid?: string;
  vdevPath?: string;
  vdevGuid?: string;
  /**
   * The vdev's state by name: as zpool prints it where it does (`"ONLINE" (0x7)` → ONLINE), else the
   * number mapped the way zpool_state_to_name() does (0x7 → ONLINE, 0x6 → DEGRADED, 0x4 → UNAVAIL). The
   * printed value stays in `fields.vdev_state`.
   */
  vdevState?: string;
  /** the event id, counting up since the ZFS module loaded */
  eid?: number;
  /** every payload pair, nested ones prefixed (see above); empty without -v */
  fields: Record<string, string>;
}

const HEADER = /^TIME\s+CLASS\s*$/;
const DROPPED = /^dropped (\d+) events?\s*$/;
const EVENT = /^([A-Z][a-z]{2} [ \d]\d \d{4} \d\d:\d\d:\d\d\.\d{9})[ \t]+(\S+)\s*$/;
const PAIR = /^\s+(\S+) = ?(.*)$/;
const END = /^\s+\(end (\S+)\)\s*$/;
const QUOTED = /^"(.*)"(?: \((?:0x[\da-f]+)\))?$/;

/** vdev_state_t (sys/fs/zfs.h) → the word zpool prints (libzfs zpool_state_to_name; CANT_OPEN without aux → UNAVAIL). */
const VDEV_STATES = ['UNKNOWN', 'OFFLINE', 'OFFLINE', 'REMOVED', 'UNAVAIL', 'FAULTED', 'DEGRADED', 'ONLINE'];

function valueOf(printed: string): string {
  const v = printed.trimEnd();
  const q = QUOTED.exec(v);
  return q ? q[1]! : v;
}

function finish(e: ZpoolEvent): ZpoolEvent {
  const f = e.fields;
  if (f.pool !== undefined) e.pool = f.pool;
  if (f.pool_guid !== undefined) e.poolGuid = f.pool_guid;
  if (f.vdev_path !== undefined) e.vdevPath = f.vdev_path;
  if (f.vdev_guid !== undefined) e.vdevGuid = f.vdev_guid;
  if (f.vdev_state !== undefined) {
    const n = /^0x[\da-f]+$/i.test(f.vdev_state) ? Number.parseInt(f.vdev_state, 16) : undefined;
    e.vdevState = n === undefined ? f.vdev_state : (VDEV_STATES[n] ?? f.vdev_state);
  }
  if (f.eid !== undefined && /^(0x[\da-f]+|\d+)$/i.test(f.eid)) e.eid = Number(f.eid);
  return e;
}

export function parseZpoolEvents(text: string): { dropped: number; events: ZpoolEvent[] } {
  const events: ZpoolEvent[] = [];
  let dropped = 0;
  let header = false;
  let current: ZpoolEvent | undefined;
  /** the open (embedded nvlist)s, outermost first */
  const nest: string[] = [];

  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    let m: RegExpExecArray | null;
    if (HEADER.test(line)) {
      header = true;
    } else if ((m = DROPPED.exec(line))) {
      dropped += Number(m[1]);
    } else if ((m = EVENT.exec(line))) {
      if (current) events.push(finish(current));
      current = { time: m[1]!, class: m[2]!, fields: {} };
      nest.length = 0;
    } else if (current && (m = END.exec(line))) {
      if (nest.at(-1) === m[1]) nest.pop();
    } else if (current && (m = PAIR.exec(line))) {
      const [, key, printed] = m as unknown as [string, string, string];
      const value = printed.trimEnd();
      if (value === '(embedded nvlist)' || /^\(\d+ embedded nvlists\)$/.test(value)) {
        nest.push(key);
        continue;
      }
      // defineProperty: a key `__proto__` is a field like any other, not the object's prototype
      Object.defineProperty(current.fields, [...nest, key].join('.'), { value: valueOf(value), enumerable: true, writable: true, configurable: true });
    }
    // anything else: not zpool's event output; skipped
  }
  if (current) events.push(finish(current));

  if (!header && events.length === 0) {
    throw new ZpoolParseError(
      'expected `zpool events` output: a "TIME CLASS" header or event lines like ' +
        `"Mar 25 2015 00:21:12.736548371 resource.fs.zfs.statechange"; the first line received was ${quoteFirstLine(text)}`,
    );
  }
  return { dropped, events };
}
