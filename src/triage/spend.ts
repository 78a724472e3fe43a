/**
 * What the model cost per day, for "spend today" on the dashboard: triage's reports and the
 * dashboard's questions add to the day's `spend` hash (keys.ts) in the same transaction that
 * keeps them.
 */
import type { ChainableCommander } from 'ioredis';
import type { StageKeys } from '../keys.ts';

/** A day as the spend key names it: YYYY-MM-DD in the process's local time (TZ). */
export function dayOf(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

/** Adds one investigation or question and its US$ to the day of `at`, kept for `retentionSeconds`. */
export function addSpend(tx: ChainableCommander, key: StageKeys<'triage'>, at: Date, usd: number, what: 'investigations' | 'asks', retentionSeconds: number): ChainableCommander {
  const k = key('spend', dayOf(at));
  return tx.hincrbyfloat(k, 'usd', usd).hincrby(k, what, 1).expire(k, retentionSeconds);
}
