/** How numbers and times read on the page. */

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** "3 min ago", "2 h ago", "5 days ago". */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return iso;
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 365) return `${plural(Math.round(s / 86400), 'day')} ago`;
  return `${(s / (86400 * 365.25)).toFixed(1)} years ago`;
}

/** A local date and time, to the minute. */
export function when(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function bytes(n: number | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** Power-on hours as a person thinks of them: "31,204 h (3.6 years)". */
export function hours(h: number): string {
  const years = h / 8766;
  return `${h.toLocaleString()} h${years >= 1 ? ` (${years.toFixed(1)} years)` : h >= 48 ? ` (${Math.round(h / 24)} days)` : ''}`;
}

export function usd(n: number | undefined): string {
  return typeof n === 'number' ? `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}` : '—';
}

/** Any reading as text: numbers with separators, booleans as yes/no, lists joined. */
export function value(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString() : v.toFixed(2);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(value).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** "power_on_hours" → "power on hours". */
export const label = (key: string) => key.replace(/_/g, ' ');

/** Tells assistive technology about a change that happened without the person's doing (live updates, results). */
export function announce(text: string): void {
  const live = document.getElementById('live');
  if (live) live.textContent = text;
}
