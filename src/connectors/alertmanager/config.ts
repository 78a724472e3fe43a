/**
 * The `alertmanager:` config block: where Alertmanager's API is, how to authenticate to it, and
 * which of its write tools the model may use (none unless listed).
 *
 * Secrets never appear inline: the token and the password are read from their `*_file` at load,
 * as everywhere in labwatch's config.
 */
import * as z from 'zod';
import { duration, httpAuth, oneAuth } from '../../config/parts.ts';
import { CREATE_SILENCE_TOOL } from './tools.ts';

export const alertmanagerConfig = z
  .strictObject({
    /** Alertmanager's root, including any --web.route-prefix: "http://alertmanager:9093". */
    url: z
      .url({ protocol: /^https?$/, error: 'an http:// or https:// URL, e.g. "http://127.0.0.1:9093"' })
      .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'a URL without user:password@ (use basic_auth with a password_file)'),
    /** For each request, answer included. */
    timeout: duration.default('10s'),
    ...httpAuth,
    /**
     * Tools that change Alertmanager, enabled one by one: `alertmanager_create_silence` lets the
     * model silence alerts. Empty (the default) means read-only.
     */
    write_tools: z.array(z.enum([CREATE_SILENCE_TOOL], { error: `a write tool's name; the only one is "${CREATE_SILENCE_TOOL}"` })).default([]),
  })
  .refine(oneAuth.check, oneAuth.params);

export type AlertmanagerConfig = z.infer<typeof alertmanagerConfig>;

