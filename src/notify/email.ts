/**
 * Email through nodemailer: multipart text + HTML, one thread per incident. The first mail of an
 * incident carries a Message-ID derived from the incident id; every later mail (updates, the
 * resolution) names it in In-Reply-To and References, so mail clients thread them. Message-IDs
 * are deterministic, so a re-sent mail is recognisably the same message.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Report } from '../triage/report.ts';
import { NotifyError, type Notifier } from './notifier.ts';
import { render } from './render.ts';

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

export function threadRoot(incidentId: string, domain: string): string {
  return `<${incidentId}@${domain}>`;
}

export function messageIdFor(report: Report, domain: string): string {
  return report.kind === 'opened' ? threadRoot(report.incidentId, domain) : `<${report.incidentId}.r${report.revision}@${domain}>`;
}

export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  readonly #transport: Transporter;
  readonly #domain: string;

  constructor(private readonly settings: EmailSettings) {
    this.#transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      tls: { rejectUnauthorized: settings.tls_verify },
    });
    const m = /@([^>\s]+)>?\s*$/.exec(settings.from);
    this.#domain = m?.[1] ?? 'labwatch.local';
  }

  async send(report: Report): Promise<string> {
    const { subject, text, html } = render(report);
    const root = threadRoot(report.incidentId, this.#domain);
    const messageId = messageIdFor(report, this.#domain);
    try {
      await this.#transport.sendMail({
        from: this.settings.from,
        to: this.settings.to,
        subject,
        text,
        html,
        messageId,
        ...(messageId === root ? {} : { inReplyTo: root, references: [root] }),
        headers: {
          'X-Labwatch-Incident': report.incidentId,
          'X-Labwatch-Revision': String(report.revision),
          'X-Labwatch-Severity': report.kind === 'resolved' ? 'resolved' : report.severity,
        },
      });
    } catch (e) {
      const err = e as { code?: string; responseCode?: number; message: string };
      throw new NotifyError(this.channel, explain(err, this.settings), !isFinal(err));
    }
    return messageId;
  }

  async probe(): Promise<void> {
    try {
      await this.#transport.verify();
    } catch (e) {
      const err = e as { code?: string; responseCode?: number; message: string };
      throw new NotifyError(this.channel, explain(err, this.settings), !isFinal(err));
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
