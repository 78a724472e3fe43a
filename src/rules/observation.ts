/**
 * An observation: what a collector saw about one subject at one time. Values are a flat-ish map
 * so that rule conditions can name them (`values.reallocated_sectors > 0`); numbers are kept as
 * history so that rules can see change, not only level.
 */
export interface Observation {
  /** the connector: smart, zfs, host, … */
  source: string;
  /** what the subject is: drive, pool, vdev, filesystem, interface, memory, … */
  kind: string;
  /** stable identity in the homelab's words: disk:<serial>, pool:tank, vdev:tank/sda, fs:/srv */
  subject: string;
  host: string;
  at: string;
  values: Record<string, unknown>;
  /** anomalies about this subject join this incident group (e.g. the pool a disk belongs to) */
  group?: string;
  /**
   * Other subjects this one is (a vdev named by-id is disk:<serial>). With a group, they are
   * remembered, so a later observation of disk:<serial> from another connector joins the pool.
   */
  aliases?: string[];
  /** one line for people (the digest's health overview): "WDC WD20EFRX · 38 °C · 0 reallocated" */
  summary?: string;
  /** the value whose trend the overview shows as an arrow (e.g. reallocated_sectors, capacity_pct) */
  trend?: string;
  /**
   * Made for one rule only (a series its query returned): only that rule sees it, and its
   * history is kept apart from other rules' readings of the same subject.
   */
  rule?: string;
  /** The subject is gone (a series no longer returned): what held about it no longer does. */
  gone?: boolean;
}

/** Where an observation's last values and history are kept. */
export function historyKey(obs: Pick<Observation, 'subject' | 'rule'>): string {
  return obs.rule ? `${obs.subject}#${obs.rule}` : obs.subject;
}

/** The latest reading of a subject, as the digest lists it. */
export interface Latest {
  subject: string;
  source: string;
  kind: string;
  host: string;
  at: string;
  summary: string;
  /** ↑ rising, ↓ falling, → steady, against about a day earlier; absent without history */
  arrow?: '↑' | '↓' | '→';
}

/** The numbers of an observation at one time, as kept in history. */
export interface HistoryPoint {
  at: string;
  values: Record<string, number>;
}

/** The top-level numeric values of an observation (what history keeps); a value named `__proto__` is kept as one. */
export function numericValues(values: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}
