/** ntfy (ntfy.sh or your own server): a push to a topic, with priority, tags and actions. */
import * as z from 'zod';
import type { Channel } from '../types.ts';
import { NtfyNotifier } from './send.ts';

const config = z.strictObject({
  url: z.string().url().default('https://ntfy.sh'),
  topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, 'an ntfy topic: 1–64 letters, digits, "-" or "_"'),
  token_file: z.string().optional(),
});

export const ntfy: Channel<z.infer<typeof config>> = {
  name: 'ntfy',
  description: 'ntfy push to a topic (ntfy.sh or your own server)',
  config,
  secrets: [{ file: 'token_file', env: 'LABWATCH_NTFY_TOKEN' }],
  delivery: { critical: 'immediate', warning: 'immediate', info: 'digest' },
  create: (block, secrets) => new NtfyNotifier({ url: block.url, topic: block.topic, ...(secrets.token_file ? { token: secrets.token_file } : {}) }),
};
