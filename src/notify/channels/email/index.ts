/** Email over SMTP: text + HTML, one thread per incident; warnings and info wait for the digest. */
import * as z from 'zod';
import type { Channel } from '../types.ts';
import { EmailNotifier } from './send.ts';

const config = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** true = implicit TLS (port 465); false = STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password_file: z.string().optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1, 'at least one recipient'),
  /** Reject servers whose certificate does not verify (turn off only for self-signed lab CAs). */
  tls_verify: z.boolean().default(true),
});

export const email: Channel<z.infer<typeof config>> = {
  name: 'email',
  description: 'email over SMTP, one thread per incident',
  config,
  secrets: [{ file: 'password_file', env: 'LABWATCH_SMTP_PASSWORD' }],
  // A mailbox is read, not rung: warnings and info wait for the digest.
  delivery: { critical: 'immediate', warning: 'digest', info: 'digest' },
  create: (block, secrets) =>
    new EmailNotifier({
      host: block.host,
      port: block.port,
      secure: block.secure,
      from: block.from,
      to: block.to,
      tls_verify: block.tls_verify,
      ...(block.user ? { user: block.user } : {}),
      ...(secrets.password_file ? { password: secrets.password_file } : {}),
    }),
};
