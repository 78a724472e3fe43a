/**
 * The `alertmanager:` config block: where Alertmanager's API is, how to authenticate to it, and
 * which of its write tools the model may use (none unless listed).
 *
 * Secrets never appear inline: the token and the password are read from their `*_file` at load,
 * as everywhere in labwatch's config.
 */
import * as z from 'zod';
import { CREATE_SILENCE_TOOL } from './tools.ts';

/** The same shape as `duration` in src/config/schema.ts. */
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "500ms", "30s", "5m", "4h" or "7d"');

export const alertmanagerConfig = z
  .strictObject({
    /** Alertmanager's root, including any --web.route-prefix: "http://alertmanager:9093". */
    url: z
      .url({ protocol: /^https?$/, error: 'an http:// or https:// URL, e.g. "http://127.0.0.1:9093"' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'a URL without user:password@ (use basic_auth with a password_file)'),
    /** For each request, answer included. */
    timeout: duration.default('10s'),
    /** File holding a bearer token, for an Alertmanager behind an authenticating proxy. */
    bearer_token_file: z.string().min(1).optional(),
    basic_auth: z
      .strictObject({
        username: z.string().min(1),
        password_file: z.string().min(1),
      })
      .optional(),
    /**
     * Tools that change Alertmanager, enabled one by one: `alertmanager_create_silence` lets the
     * model silence alerts. Empty (the default) means read-only.
     */
    write_tools: z.array(z.enum([CREATE_SILENCE_TOOL], { error: `a write tool's name; the only one is "${CREATE_SILENCE_TOOL}"` })).default([]),
  })
  .refine((c) => !(c.bearer_token_file && c.basic_auth), {
    message: 'bearer_token_file and basic_auth are exclusive; keep one',
    path: ['basic_auth'],
  });

export type AlertmanagerConfig = z.infer<typeof alertmanagerConfig>;

/** "10s" → 10000. The schema has already checked the shape. */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}
