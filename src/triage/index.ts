/**
 * Triage turns one incident revision into a report: Claude's investigation (agent.ts) when an
 * API key is configured, else the deterministic report enriched with default checks (enrich.ts),
 * which is also what Claude's investigation falls back to.
 */
import type { Incident } from '../incidents/types.ts';
import type { Report } from './report.ts';

export interface Triager {
  investigate(incident: Incident): Promise<Report>;
}
