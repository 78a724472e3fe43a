/**
 * What a connector can contribute to the core. The core (incidents, queue, triage, notify, http)
 * only knows these shapes, never a system by name; `daemon.ts` lists the connectors.
 */
import type { Anomaly } from '../incidents/types.ts';
import type { OnTruncated } from './limits.ts';

/** Thrown by an intake for a payload it cannot accept: becomes HTTP 400 with this message. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** A system that pushes alerts to labwatch over HTTP: mounted at `POST /webhook/<path>`. */
export interface WebhookIntake {
  /** Anomaly source name, also the metrics label. */
  source: string;
  path: string;
  /**
   * Validates a parsed JSON body and maps it to anomalies; throws PayloadError when invalid.
   * Values over the size limits (connectors/limits.ts) are cut, not refused, and reported to `onTruncated`.
   */
  parse(body: unknown, onTruncated?: OnTruncated): Anomaly[];
}
