/**
 * A notifier formats one message for its channel and sends it, or throws a NotifyError that says
 * whether a retry can help. Retries, idempotence, the circuit and metrics wrap every notifier in
 * the worker; no notifier re-implements them.
 */
import type { Latest } from '../rules/observation.ts';
import type { Report } from '../triage/report.ts';

/** How urgent a message is, on one scale for every channel: the severity, or `resolved`. */
export type Level = 'critical' | 'warning' | 'info' | 'resolved';

/** One incident as the digest lists it. */
export interface DigestLine {
  id: string;
  severity: string;
  title: string;
  host: string;
  since: string;
  resolvedAt?: string;
}

/** What happened in one period (from, to], as digest.ts builds it; part of what a channel may be handed. */
export interface Digest {
  from: string;
  to: string;
  opened: DigestLine[];
  escalated: DigestLine[];
  stillOpen: DigestLine[];
  resolved: DigestLine[];
  health: Latest[];
}

/**
 * What every channel is handed: channel-neutral. The shared formats (subject, plain text, HTML,
 * markdown) are rendered once by render.ts / digest.ts, secrets scrubbed; a channel that needs
 * its own shape (ntfy's push, the webhook's JSON) builds it from the report or digest carried here.
 */
export interface Message {
  /** unique per message (incident + revision, digest period): dedup and email Message-IDs derive from it */
  key: string;
  /** one line: state, host, title */
  subject: string;
  text: string;
  html: string;
  /** the whole message as markdown, alert text escaped (Gotify, Apprise) */
  markdown: string;
  level: Level;
  /** the report this message carries, secrets scrubbed; absent for the digest */
  report?: Report;
  /** the digest this message carries, secrets scrubbed */
  digest?: Digest;
  /** the incident's page in labwatch, when notify.public_url is known */
  page?: string;
  /** email threading: messages about one incident share a root */
  thread?: { root: string; isRoot: boolean };
  headers?: Record<string, string>;
  /** Acknowledge / Snooze as signed single-use links (only for channels that `takesActions`, with notify.public_url) */
  actions?: MessageAction[];
}

/** Something a person can do from the message itself. */
export interface MessageAction {
  label: string;
  /** acts when POSTed to (ntfy's `http` action button) */
  url: string;
  /** a page that asks first, for links a mail scanner or preview may GET (a GET never acts) */
  confirm: string;
}

export class NotifyError extends Error {
  constructor(
    readonly channel: string,
    message: string,
    /** false for failures a retry cannot fix (bad credentials, rejected recipient, bad request). */
    readonly retryable: boolean,
  ) {
    super(`notify/${channel}: ${message}`);
    this.name = 'NotifyError';
  }
}

export interface Notifier {
  readonly channel: string;
  /** Shows Message.actions (buttons, links); other channels are never handed them, so no link reaches a log or a third party. */
  readonly takesActions?: boolean;
  /** Sends one message; returns the channel's id for it (Message-ID, ntfy message id). */
  send(message: Message): Promise<string | undefined>;
  /**
   * Checks that the channel is reachable and accepts our credentials, without sending anything.
   * Resolves to a note for `labwatch check` when there is something to say (what could not be
   * checked without sending); throws a NotifyError naming what is wrong.
   */
  probe(): Promise<string | void>;
  close(): Promise<void>;
}
