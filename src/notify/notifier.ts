/**
 * A notifier formats one report for its channel and sends it, or throws a NotifyError that says
 * whether a retry can help. Retries, idempotence and metrics wrap every notifier in the worker;
 * no notifier re-implements them.
 */
import type { RenderedPush } from './render.ts';

/** What a channel sends: rendered once by render.ts, for every channel. */
export interface Message {
  /** unique per message (incident + revision, digest period): dedup and email Message-IDs derive from it */
  key: string;
  subject: string;
  text: string;
  html: string;
  push: RenderedPush;
  /** email threading: messages about one incident share a root */
  thread?: { root: string; isRoot: boolean };
  headers?: Record<string, string>;
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
  /** Sends one message; returns the channel's id for it (Message-ID, ntfy message id). */
  send(message: Message): Promise<string | undefined>;
  /** Checks that the channel is reachable and accepts our credentials, without sending anything. */
  probe(): Promise<void>;
  close(): Promise<void>;
}
