/** A timestamp as people read it in messages: `2021-01-07 08:38:00 UTC` (ISO, no milliseconds). */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}
