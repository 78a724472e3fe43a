/**
 * The deterministic report, enriched: for each firing anomaly, run the tool that is its default
 * diagnostic (a disk anomaly: the drive's health; a pool anomaly: the pool's status) and add what
 * it showed as facts. What goes out without Claude still says more than the alert did.
 */
import type { Incident } from '../incidents/types.ts';
import type { AuditLog } from '../tools/audit.ts';
import { runTool } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';
import { deterministicReport } from './deterministic.ts';
import type { Triager } from './index.ts';
import type { Report } from './report.ts';

/** At most this many diagnostic calls per report: a storm must not become a tool storm. */
const MAX_CALLS = 3;

export async function enrichedReport(incident: Incident, tools: ToolSpec[], audit: AuditLog, notes: string[]): Promise<Report> {
  const report = deterministicReport(incident, notes);
  const done = new Set<string>();
  for (const a of Object.values(incident.anomalies)) {
    if (a.status !== 'firing') continue;
    for (const tool of tools) {
      const args = tool.defaultFor?.(a);
      if (!args) continue;
      const key = `${tool.name} ${JSON.stringify(args)}`;
      if (done.has(key) || done.size >= MAX_CALLS) continue;
      done.add(key);
      const r = await runTool(tool, args, audit, { caller: 'triage', incident: incident.id, maxBytes: 16_000, timeoutMs: 30_000 });
      report.facts.push({ text: r.status === 'error' ? `could not check: ${r.text}` : r.text, source: key });
    }
  }
  return report;
}

/** Without an API key: the deterministic report, enriched with the default diagnostics. */
export class EnrichedTriager implements Triager {
  constructor(
    private readonly tools: ToolSpec[],
    private readonly audit: AuditLog,
    private readonly why: string,
  ) {}

  investigate(incident: Incident): Promise<Report> {
    return enrichedReport(incident, this.tools, this.audit, [this.why]);
  }
}
