/**
 * A notifier formats one report for its channel and sends it, or throws a NotifyError that says
 * whether a retry can help. Retries, idempotence and metrics wrap every notifier in the worker;
 * no notifier re-implements them.
 */
import type { Report } from '../triage/report.ts';

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
  /** Sends one report; returns the channel's id for it (Message-ID, ntfy message id). */
  send(report: Report): Promise<string | undefined>;
  /** Checks that the channel is reachable and accepts our credentials, without sending anything. */
  probe(): Promise<void>;
  close(): Promise<void>;
}
