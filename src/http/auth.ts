/** Bearer-token check for webhook and /mcp requests, in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Returns a checker for `Authorization` header values; with no token configured, all pass. */
export function bearerChecker(token: string | undefined): (header: string | undefined) => boolean {
  if (!token) return () => true;
  const want = digest(token);
  return (header) => {
    const m = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
    return m ? timingSafeEqual(digest(m[1]!.trim()), want) : false;
  };
}
