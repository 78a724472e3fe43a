/**
 * Triage turns one incident revision into a report: Claude's investigation (agent.ts) when an
 * API key is configured, else the deterministic report enriched with default checks (enrich.ts),
 * which is also what Claude's investigation falls back to.
 */
import type { Incident } from '../incidents/types.ts';
import type { Report } from './report.ts';
import { scrubDeep } from '../telemetry/log.ts';

export interface Triager {
  investigate(incident: Incident): Promise<Report>;
}

/**
 * A triager whose reports hold no configured secret and no URL password (alert text can carry
 * them), so the report stored in Redis is as safe to show as what the renderer sends.
 */
export function withoutSecrets(triager: Triager, secrets: readonly string[]): Triager {
  return { investigate: async (incident) => scrubDeep(await triager.investigate(incident), secrets) };
}
