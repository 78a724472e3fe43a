/** Deterministic identities of what connectors and rules report: fingerprints, group hashes, and severity words mapped to one scale. */
import { createHash, hash } from 'node:crypto';
import type { Severity } from './types.ts';

/** Short, stable hex hash of the parts (NUL-separated, so ["ab","c"] ≠ ["a","bc"]). */
export function stableHash(parts: string[], length = 16): string {
  // One-shot hash (Node >= 20.12): this runs for every webhook delivery.
  return hash('sha256', parts.join('\0'), 'hex').slice(0, length);
}

/** Hash of a label set, independent of key order: stableHash of [k1, v1, k2, v2, …], without joining them first (values can be large). */
export function labelsFingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  Object.keys(labels)
    .sort()
    .forEach((k, i) => h.update(i === 0 ? k : `\0${k}`).update('\0').update(labels[k] ?? ''));
  return h.digest('hex').slice(0, 16);
}

/** A Map, not an object: a severity label `constructor` or `__proto__` is a word, not Object's member. */
const SEVERITY_WORDS = new Map<string, Severity>(
  Object.entries({
    critical: 'critical', crit: 'critical', page: 'critical', high: 'critical', error: 'critical',
    emergency: 'critical', emerg: 'critical', alert: 'critical', major: 'critical', fatal: 'critical',
    disaster: 'critical', p1: 'critical',
    warning: 'warning', warn: 'warning', medium: 'warning', minor: 'warning', average: 'warning',
    moderate: 'warning', p2: 'warning', p3: 'warning',
    info: 'info', informational: 'info', information: 'info', low: 'info', notice: 'info',
    none: 'info', debug: 'info', ok: 'info', p4: 'info', p5: 'info',
  } satisfies Record<string, Severity>),
);

/** Maps the many severity words in the wild onto labwatch's three; unknown or missing → warning. */
export function normaliseSeverity(word: string | undefined): Severity {
  if (!word) return 'warning';
  return SEVERITY_WORDS.get(word.trim().toLowerCase()) ?? 'warning';
}

/**
 * The group of anomalies about one thing in the lab (a disk, a pool, an interface) on one host,
 * whoever reported them: labwatch's collectors and an alert that names the same subject share it,
 * so they become one incident.
 */
export function labGroupKey(host: string, groupOrSubject: string): string {
  return `watch:${host}|${groupOrSubject}`;
}

/**
 * The host a Prometheus `instance` names: "nas:9100" → "nas"; "[fd00::2]:9100" → "fd00::2". The
 * PromQL collector and alerts use the same words, so a series and an alert about it share a group.
 */
export function hostOfInstance(instance: string | undefined): string | undefined {
  if (!instance) return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (v6) return v6[1];
  return instance.replace(/:\d+$/, '') || undefined;
}

/** Is this a lab group (one subject on one host), which a subject's recorded group may replace? */
export function isLabGroupKey(key: string): boolean {
  return key.startsWith('watch:');
}
