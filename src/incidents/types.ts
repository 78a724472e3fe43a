/**
 * The values that flow through labwatch, left to right: Anomaly → Incident → Report. Each is a
 * plain, JSON-serialisable value so that any stage can be tested alone and carried by BullMQ.
 */

export type { Anomaly, Link, Severity } from '../connectors/types.ts';
import type { Anomaly, Severity } from '../connectors/types.ts';

/** What merge.ts makes: inc-<10 hex of the group key>-<base36 opening time>. */
export const INCIDENT_ID = /^inc-[0-9a-f]{10}-[0-9a-z]{1,12}$/;

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface AnomalyState extends Anomaly {
  firstSeenAt: string;
  lastSeenAt: string;
  /** Deliveries of this anomaly that changed nothing (Alertmanager repeats, unchanged polls). */
  repeats: number;
}

export type IncidentStatus = 'firing' | 'resolved';
export type RevisionKind = 'opened' | 'updated' | 'resolved';

/**
 * A group of anomalies that one person should hear about once. Its revision goes up only on a
 * material change (an anomaly starts or stops firing, severity changes); each revision is
 * triaged and notified once.
 */
export interface Incident {
  id: string;
  groupKey: string;
  /** Position of this incident among those of its group key (1 for the first). */
  seq: number;
  title: string;
  host: string;
  severity: Severity;
  status: IncidentStatus;
  /** 0 = recorded but never announced (e.g. a resolution for an alert labwatch never saw fire). */
  revision: number;
  kind: RevisionKind;
  /** What changed in this revision, in words, for the report. */
  changes: string[];
  /** When labwatch opened the incident. */
  openedAt: string;
  /** When the problem started, by its own account: the earliest start of a firing anomaly. */
  since: string;
  updatedAt: string;
  lastSeenAt: string;
  resolvedAt?: string;
  anomalies: Record<string, AnomalyState>;
}
