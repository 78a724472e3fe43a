/**
 * Size caps for what webhook senders put in labels and annotations. The body limit bounds a
 * request, but not what one value costs once it is copied into incidents, reports, prompts and
 * mails; these bound each value and each alert. A cut value ends with a visible marker
 * (`…[truncated 1044480 bytes]`), entries beyond the per-alert count are named in one annotation,
 * and every cut is counted (labwatch_webhook_truncated_total{source,what}).
 *
 * Keys are copied with Object.fromEntries, so a label named `__proto__` stays an own key (data).
 */

export const LIMITS = {
  /** bytes (UTF-8) of one label value: far above any real label, small enough to copy freely */
  labelValueBytes: 4096,
  /** bytes of one annotation value (a description or a runbook text can be long) */
  annotationValueBytes: 16384,
  /** bytes of one label or annotation name */
  nameBytes: 256,
  labelsPerAlert: 128,
  annotationsPerAlert: 64,
  /**
   * Alerts taken from one request; the rest are counted, named on the kept ones and not stored.
   * The alerts of a request are one Alertmanager group, so one incident, and every later change of
   * an incident costs in proportion to its size: 40,000 alerts took 50 s to store, and incidents of
   * 1,000 alerts brought the daemon within a few MB of 300 MB under test/http/webhook-limits.test.ts.
   * Alertmanager's `max_alerts: 500` makes it send the same and count the rest (truncatedAlerts).
   */
  alertsPerRequest: 500,
} as const;

/** The `what` of labwatch_webhook_truncated_total. */
export const TRUNCATED_WHAT = ['label_value', 'annotation_value', 'name', 'labels', 'annotations', 'alerts'] as const;
export type TruncatedWhat = (typeof TRUNCATED_WHAT)[number];

/** Told about each cut, for the metric. */
export type OnTruncated = (what: TruncatedWhat, count: number) => void;

/** The annotation that says which entries of an alert were dropped. */
export const TRUNCATED_ANNOTATION = 'labwatch_truncated';

/** `s` cut to at most `maxBytes` bytes of UTF-8 (never inside a character), then the marker; or `s` itself. */
function capText(s: string, maxBytes: number): { text: string; cut: boolean } {
  if (s.length <= maxBytes / 3) return { text: s, cut: false }; // at most 3 bytes per UTF-16 unit
  const total = Buffer.byteLength(s, 'utf8');
  if (total <= maxBytes) return { text: s, cut: false };
  let head = s.slice(0, maxBytes);
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1); // half a surrogate pair
  const buf = Buffer.from(head, 'utf8');
  let end = Math.min(buf.length, maxBytes);
  if (end < buf.length) while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return { text: `${buf.subarray(0, end).toString('utf8')}…[truncated ${total - end} bytes]`, cut: true };
}

export interface SetLimits {
  kind: 'label' | 'annotation';
  valueBytes: number;
  maxEntries: number;
  /** names kept first when there are more entries than maxEntries (the ones labwatch reads) */
  keepFirst: readonly string[];
}

/**
 * A label or annotation set within the limits: names and values cut, entries beyond maxEntries
 * dropped (the `keepFirst` ones kept). Returns the new set and how many entries were dropped.
 */
export function capSet(set: Record<string, string>, limits: SetLimits, onTruncated: OnTruncated): { set: Record<string, string>; dropped: number } {
  let entries = Object.entries(set);
  let dropped = 0;
  if (entries.length > limits.maxEntries) {
    const first = new Set(limits.keepFirst);
    entries = [...entries.filter(([k]) => first.has(k)), ...entries.filter(([k]) => !first.has(k))].slice(0, limits.maxEntries);
    dropped = Object.keys(set).length - entries.length;
    onTruncated(limits.kind === 'label' ? 'labels' : 'annotations', dropped);
  }
  let names = 0;
  let values = 0;
  const out = entries.map(([k, v]): [string, string] => {
    const name = capText(k, LIMITS.nameBytes);
    const value = capText(v, limits.valueBytes);
    if (name.cut) names++;
    if (value.cut) values++;
    return [name.text, value.text];
  });
  if (names) onTruncated('name', names);
  if (values) onTruncated(limits.kind === 'label' ? 'label_value' : 'annotation_value', values);
  return { set: Object.fromEntries(out), dropped };
}
