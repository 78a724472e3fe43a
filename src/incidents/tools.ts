/** Tools over labwatch's own incidents: what it knows is wrong, and what it reported. */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../tools/types.ts';
import type { IncidentStore } from './store.ts';
import { INCIDENT_ID } from './types.ts';

/**
 * What incident_get reads of triage's reports (triage/reports.ts ReportStore). Declared here, not
 * imported: incidents come before triage, and nothing here may import what comes later.
 */
export interface ReportsOf {
  getReport(id: string, revision: number): Promise<object | null>;
  triageCost(id: string): Promise<{ investigations: number; usd: number; local?: boolean } | null>;
}

const incidentId = z.string().regex(INCIDENT_ID, 'an incident id like inc-0123456789-mwv0a5ue');

export function incidentTools(store: IncidentStore, reports: ReportsOf): ToolSpec[] {
  const list = defineTool({
    name: 'incidents_list',
    title: "labwatch's incidents",
    description:
      'Incidents labwatch knows of, newest change first: id, title, host, severity, status (firing or resolved), since when. ' +
      'Default: the firing ones. Use incident_get for one incident with its alerts and report. An empty list means nothing is wrong.',
    input: {
      status: z.enum(['firing', 'resolved', 'all']).default('firing'),
      limit: z.number().int().min(1).max(50).default(20),
    },
    annotations: READ_ONLY,
    run: async ({ status, limit }) => {
      const rows = (await store.listRecent(200))
        .filter((i) => status === 'all' || i.status === status)
        .slice(0, limit)
        .map((i) => ({ id: i.id, title: i.title, host: i.host, severity: i.severity, status: i.status, since: i.since, revision: i.revision }));
      if (rows.length === 0) return noData(status === 'firing' ? 'no incident is firing' : 'no incidents');
      return ok({ incidents: rows }, rows.map((r) => `${r.id} [${r.severity}] ${r.status} ${r.title}`).join('\n'));
    },
  });
  const get = defineTool({
    name: 'incident_get',
    title: 'One incident with its alerts and report',
    description: 'One incident: every anomaly in it (rule, subject, summary, labels, since when, status), what changed in its last revision, and the latest report sent about it.',
    input: { id: incidentId },
    annotations: READ_ONLY,
    run: async ({ id }) => {
      const incident = await store.getIncident(id);
      if (!incident) return failed(`no incident ${id} (resolved incidents are kept for the retention period); call incidents_list`);
      const reported = await store.reportedRevision(id, incident.revision);
      const [report, triageCost] = await Promise.all([reports.getReport(id, reported), reports.triageCost(id)]);
      return ok(
        { incident: incident as unknown as Record<string, unknown>, report: (report ?? null) as unknown as Record<string, unknown>, triageCost },
        `${id} ${incident.status} ${incident.title}${triageCost ? `; triage so far: ${triageCost.investigations} investigation(s), ${triageCost.local && triageCost.usd === 0 ? 'by a local model, no cost' : `$${triageCost.usd.toFixed(4)}`}` : ''}`,
      );
    },
  });
  return [list, get];
}
