/**
 * Scoring, kept honest: what belongs to the run (its dates and times, incident ids, the host,
 * temporary paths) is stripped before matching, and text that only repeats a collector's error
 * message is cut out, so a fact counts only when the report itself states it.
 */
import { patternOf } from './scenario.ts';

export interface RunIds {
  now: Date;
  host: string;
  /** anything else of the run: key prefix, temporary folders */
  extra: string[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The text with the run's own dates, times and ids replaced by placeholders. */
export function stripRun(text: string, run: RunIds, errors: string[] = []): string {
  let t = text;
  // Collector errors first (before their own paths and dates are rewritten).
  for (const e of errors.filter((x) => x.trim().length >= 8).sort((a, b) => b.length - a.length)) t = t.split(e).join('[collector error]');
  for (const x of run.extra.filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) t = t.split(x).join('[run]');
  // The host as a whole word only: a fact never needs it, and a short name must not eat parts of others.
  if (run.host) t = t.replace(new RegExp(`(?<![\\w.-])${run.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'), '[host]');
  t = t.replace(/\binc-[0-9a-z-]+/gi, '[incident]');
  // Dates of the run (±1 day, UTC and local renderings), with any time of day after them.
  for (const d of [-1, 0, 1].map((k) => new Date(run.now.getTime() + k * 86_400_000))) {
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const day = d.getUTCDate();
    const iso = `${y}-${String(m + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    t = t.replace(new RegExp(`${iso}(?:[T ][0-9:.]+(?:Z|[+-]\\d\\d:?\\d\\d)?(?: UTC)?)?`, 'g'), '[run date]');
    t = t.replace(new RegExp(`\\b0?${day} ${MONTHS[m]} ${y}(?: [0-9:]+)?`, 'g'), '[run date]');
    t = t.replace(new RegExp(`\\b${MONTHS[m]} 0?${day},? ${y}(?:,? [0-9:]+(?: [AP]M)?)?`, 'g'), '[run date]');
  }
  return t;
}

export interface FactResult {
  name: string;
  pattern: string;
  found: boolean;
}

/** Each expected fact found in `text`; each rejected claim counts as found when `text` does not make it. */
export function matchFacts(expect: Record<string, string>, text: string, reject: Record<string, string> = {}): FactResult[] {
  return [
    ...Object.entries(expect).map(([name, pattern]) => ({ name, pattern, found: patternOf(pattern).test(text) })),
    ...Object.entries(reject).map(([name, pattern]) => ({ name: `not ${name}`, pattern: `not ${pattern}`, found: !patternOf(pattern).test(text) })),
  ];
}

/** Lower bound of the Wilson score interval (95 %: z = 1.96) for `k` successes in `n`. */
export function wilsonLower(k: number, n: number, z = 1.96): number {
  if (n === 0) return 0;
  const p = k / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}
