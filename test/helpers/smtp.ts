/**
 * A real SMTP server on loopback (smtp-server), recording every accepted message parsed with
 * mailparser. `refuseNext(n)` answers the next n MAIL FROM with a temporary 451, as a mail
 * server in trouble does.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  from: string;
  to: string[];
  user?: string;
}

export class TestSmtp {
  readonly messages: ReceivedMail[] = [];
  refused = 0;
  /** logins refused (wrong user or password) */
  authFailures = 0;
  #refuse = 0;
  /** Runs after a message is received and before it is accepted (e.g. to stop Redis meanwhile). */
  beforeAnswer: (() => Promise<void>) | undefined;
  #server: SMTPServer;
  port = 0;

  constructor(opts: { user?: string; password?: string } = {}) {
    this.#server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: !opts.user,
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === opts.user && auth.password === opts.password) return cb(null, { user: auth.username });
        this.authFailures++;
        return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onMailFrom: (_addr, _session, cb) => {
        if (this.#refuse > 0) {
          this.#refuse--;
          this.refused++;
          return cb(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.messages.push({
            parsed: await simpleParser(raw),
            raw,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            ...(session.user ? { user: String(session.user) } : {}),
          });
          await this.beforeAnswer?.();
          cb();
        });
      },
    });
    // A client killed mid-session (a SIGKILLed labwatch) resets its connection: the client's end, not a server fault.
    this.#server.on('error', () => {});
  }

  refuseNext(n: number): void {
    this.#refuse = n;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
