/**
 * How an incident is laid out in Redis: a small header (everything but the anomalies, plus a
 * write counter) under the group and incident keys, and the anomalies in a hash, one field per
 * fingerprint. A change writes the header and the anomalies it touched, so an incident of a
 * thousand alerts costs the same to update as one of a single alert.
 */
import type { AnomalyState, Incident } from './types.ts';

export interface Header extends Omit<Incident, 'anomalies'> {
  /** bumped by every commit, so equal headers mean an unchanged incident */
  v?: number;
  /** only in records written before the split: the anomalies inline */
  anomalies?: Record<string, AnomalyState>;
}

export function headerOf(incident: Incident, v: number): string {
  const { anomalies: _, v: _previous, ...rest } = incident as Incident & { v?: number };
  return JSON.stringify({ ...rest, v });
}

/** The incident from its header and its anomalies hash (an old record carries them inline). */
export function incidentOf(header: Header, fields: Record<string, string>): Incident {
  if (header.anomalies) return header as Incident;
  const anomalies: Record<string, AnomalyState> = {};
  for (const [fp, json] of Object.entries(fields)) anomalies[fp] = JSON.parse(json) as AnomalyState;
  return { ...header, anomalies };
}
