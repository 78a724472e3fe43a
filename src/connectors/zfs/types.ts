/**
 * A ZFS pool's health from `zpool status` (JSON with -jp --json-int on OpenZFS >= 2.3, else text)
 * and `zpool list -Hp`. Counters are numbers even where zpool abbreviates them ("1.37K" → 1403: zfs_nicenum counts in 1024s).
 */

export interface VdevCounters {
  read: number;
  write: number;
  checksum: number;
}

export type VdevGroup = 'data' | 'logs' | 'cache' | 'spares' | 'special' | 'dedup';

export interface Vdev {
  /** as zpool prints it: mirror-0, raidz1-0, draid1:4d:11c:1s-0, replacing-0, spare-6, sda, a GUID, a file path */
  name: string;
  /** mirror, raidz, draid, replacing, spare, disk, file, or the distributed spare (draid spare) */
  kind: 'mirror' | 'raidz' | 'draid' | 'replacing' | 'spare' | 'disk' | 'file' | 'draid-spare';
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, REMOVED, UNAVAIL, AVAIL, INUSE, … (text form words; JSON "HEALTHY" is kept as is) */
  state: string;
  counters?: VdevCounters;
  /** what zpool adds after the counters: "too many errors", "corrupted data", "was /dev/…", "(resilvering)", "currently in use" */
  note?: string;
  /** from "was /dev/…" when the device is shown by GUID */
  wasPath?: string;
  resilvering?: boolean;
  children: Vdev[];
}

export interface ScanState {
  kind: 'scrub' | 'resilver' | 'none';
  state: 'running' | 'finished' | 'canceled' | 'paused' | 'none';
  /** ISO 8601; zpool prints the host's local time, read as local time */
  startedAt?: string;
  endedAt?: string;
  repairedBytes?: number;
  errors?: number;
  /** running scans: percent done and seconds to go, when zpool says */
  progressPct?: number;
  secondsToGo?: number;
  /** the scan line verbatim, for people */
  text?: string;
}

export interface PoolErrors {
  /** count of data errors (0 for "No known data errors") */
  dataErrors: number;
  /** files (or dataset:<0x…>) listed after "Permanent errors have been detected" */
  permanentFiles: string[];
  /** whether zpool printed a count or a file list; false when the list was unavailable and no count followed */
  counted: boolean;
  /** "List of errors unavailable: permission denied" (not run as root) or "…: pool I/O is currently suspended" */
  listUnavailable: boolean;
  /** why the list was unavailable, as zpool said it ("permission denied", "pool I/O is currently suspended") */
  unavailableBecause?: string;
  /** the errors: line(s) verbatim */
  text: string;
}

export interface PoolHealth {
  name: string;
  /** `pool:<name>` */
  subject: string;
  /** ONLINE, DEGRADED, FAULTED, SUSPENDED, UNAVAIL, OFFLINE, REMOVED */
  state: string;
  /** zpool's own diagnosis: the `status:` and `action:` lines, joined */
  status?: string;
  action?: string;
  /** the `see:` link (text) or the JSON form's link */
  see?: string;
  /** the message id in the link, e.g. ZFS-8000-HC (see messages.ts) */
  msgid?: string;
  scan: ScanState;
  /** top-level groups: the pool's root vdev children under "data", then logs, cache, spares, special, dedup */
  groups: Partial<Record<VdevGroup, Vdev[]>>;
  /** pool-level counters (the row named like the pool) */
  counters?: VdevCounters;
  errors?: PoolErrors;
}

/** One pool row of `zpool list -Hp` (or with a header); sizes in bytes, "-" → absent. */
export interface PoolUsage {
  name: string;
  sizeBytes?: number;
  allocBytes?: number;
  freeBytes?: number;
  fragmentationPct?: number;
  capacityPct?: number;
  dedupRatio?: number;
  health: string;
}
