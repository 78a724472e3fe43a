/**
 * Email through nodemailer: multipart text + HTML, one thread per incident. The first mail of an
 * incident carries a Message-ID derived from the incident id; every later mail (updates, the
 * resolution) names it in In-Reply-To and References, so mail clients thread them. Message-IDs
 * are deterministic, so a re-sent mail is recognisably the same message. nodemailer is loaded
 * on the first send or probe, so loading the config (every CLI command) does not pay for it.
 */
import type { Transporter } from 'nodemailer';
import { NotifyError, type Message, type Notifier } from '../../notifier.ts';

export interface EmailSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
  to: string[];
  tls_verify: boolean;
}

/**
 * SMTP failures a retry cannot fix: bad credentials and permanent (5xx) refusals. A 4xx reply
 * is temporary by definition (RFC 5321 §4.2.1), whatever stage it came at (nodemailer calls a
 * refused MAIL FROM "EENVELOPE" even when it is a 451).
 */
function isFinal(err: { code?: string; responseCode?: number }): boolean {
  if (typeof err.responseCode === 'number' && err.responseCode >= 400 && err.responseCode < 500) return false;
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'EENVELOPE') return true;
  return typeof err.responseCode === 'number' && err.responseCode >= 500 && err.responseCode < 600;
}

function explain(err: { code?: string; responseCode?: number; message: string }, s: EmailSettings): string {
  const where = `${s.host}:${s.port}`;
  if (err.code === 'ETLS' || /certificate|ssl3?_|wrong version number|tls/i.test(err.message))
    return `TLS with ${where} failed (${err.message}); check notify.email.secure (true only for port 465) and tls_verify`;
  switch (err.code) {
    case 'EAUTH':
      return `${where} rejected the login for user "${s.user ?? ''}" (${err.message}); check notify.email.user and the password file`;
    case 'ENOAUTH':
      return `${where} requires a login; set notify.email.user and password_file`;
    case 'ESOCKET':
    case 'ECONNECTION':
      return /ECONNREFUSED/.test(err.message)
        ? `${where} refused the connection; is the mail server up and the port right?`
        : `cannot connect to ${where} (${err.message}); is the mail server up and the port right?`;
    case 'ETIMEDOUT':
      return `${where} did not answer in time (${err.message})`;
    default:
      return `${where}: ${err.message}`;
  }
}

/** The thread root's Message-ID (the first mail of an incident), named after the incident. */
function threadRoot(root: string, domain: string): string {
  return `<${root}@${domain}>`;
}

/** Deterministic, so a re-sent mail is recognisably the same message. */
function messageIdFor(m: Message, domain: string): string {
  return m.thread?.isRoot ? threadRoot(m.thread.root, domain) : `<${m.key}@${domain}>`;
}

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  /** links to pages that ask first: mail scanners and previews follow links */
  readonly takesActions = true;
  #transport: Promise<Transporter> | undefined;
  readonly #domain: string;

  constructor(private readonly settings: EmailSettings) {
    const m = /@([^>\s]+)>?\s*$/.exec(settings.from);
    this.#domain = m?.[1] ?? 'labwatch.local';
  }

  #tx(): Promise<Transporter> {
    const s = this.settings;
    return (this.#transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: s.host,
        port: s.port,
        secure: s.secure,
        ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
        tls: { rejectUnauthorized: s.tls_verify },
      }),
    ));
  }

  async send(m: Message): Promise<string> {
    const messageId = messageIdFor(m, this.#domain);
    const root = m.thread && !m.thread.isRoot ? threadRoot(m.thread.root, this.#domain) : undefined;
    const transport = await this.#tx();
    try {
      await transport.sendMail({
        from: this.settings.from,
        to: this.settings.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId,
        ...(root ? { inReplyTo: root, references: [root] } : {}),
        headers: m.headers ?? {},
      });
    } catch (e) {
      const err = e as { code?: string; responseCode?: number; message: string };
      throw new NotifyError(this.channel, explain(err, this.settings), !isFinal(err));
    }
    return messageId;
  }

  async probe(): Promise<void> {
    const transport = await this.#tx();
    try {
      await transport.verify();
    } catch (e) {
      const err = e as { code?: string; responseCode?: number; message: string };
      throw new NotifyError(this.channel, explain(err, this.settings), !isFinal(err));
    }
  }

  async close(): Promise<void> {
    if (this.#transport) (await this.#transport).close();
  }
}
