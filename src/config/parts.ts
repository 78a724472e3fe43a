/**
 * Pieces of the config schema that connectors' own blocks share with it: durations, and how
 * labwatch authenticates to an HTTP API (a bearer token or basic auth, secrets named by file).
 */
import * as z from 'zod';

export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "500ms", "30s", "5m", "4h" or "7d"');

/** "30s" → 30000. The schema has already checked the shape. */
export function ms(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The keys of an HTTP API block that say how labwatch logs in (at most one of them). */
export const httpAuth = {
  /** file holding a bearer token (for a server behind an authenticating proxy, or with --web.config.file) */
  bearer_token_file: z.string().min(1).optional(),
  basic_auth: z
    .strictObject({
      username: z.string().min(1),
      password_file: z.string().min(1),
    })
    .optional(),
};

export const oneAuth = {
  check: (c: { bearer_token_file?: string | undefined; basic_auth?: unknown }) => !(c.bearer_token_file && c.basic_auth),
  params: { message: 'give bearer_token_file or basic_auth, not both', path: ['basic_auth'] },
};
