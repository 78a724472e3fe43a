/**
 * Quiet hours: a daily window (e.g. 22:00–07:00 in the owner's timezone) in which non-critical
 * messages wait for its end, or go to the digest. Critical ones always go out.
 */
export interface QuietHours {
  start: string;
  end: string;
  timezone?: string;
  mode: 'delay' | 'digest';
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since midnight (and seconds) at `now` in the timezone. */
function clockIn(now: Date, timezone?: string): { minutes: number; seconds: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', ...(timezone ? { timeZone: timezone } : {}) }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), seconds: get('second') };
}

/** Milliseconds until the quiet window ends, or 0 when `now` is outside it. */
export function quietFor(q: QuietHours | undefined, now: Date): number {
  if (!q) return 0;
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === end) return 0;
  const { minutes, seconds } = clockIn(now, q.timezone);
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return 0;
  const left = (end - minutes + 1440) % 1440 || 1440;
  return left * 60_000 - seconds * 1000 - now.getMilliseconds();
}
