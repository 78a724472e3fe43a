/**
 * GET /incidents/:id: the latest report of one incident as a page, read-only and public (a
 * truncated ntfy message links to it, opened on a phone without the token).
 */
import { INCIDENT_ID } from '../../incidents/types.ts';
import { errorBody, type RouteModule } from '../route.ts';

export interface IncidentPageDeps {
  /** The HTML page of an incident's latest report, or null when there is no such incident. */
  incidentPage?: (id: string) => Promise<string | null>;
}

export const incidents: RouteModule<IncidentPageDeps> = {
  name: 'incidents',
  register(app, deps) {
    app.get<{ Params: { id: string } }>('/incidents/:id', { config: { access: 'public' } }, async (req, reply) => {
      if (!INCIDENT_ID.test(req.params.id)) return reply.code(400).send(errorBody('not an incident id; ids look like inc-0123456789-mwv0a5ue'));
      const page = await deps.incidentPage?.(req.params.id);
      if (!page) return reply.code(404).send(errorBody(`no incident ${req.params.id} (resolved incidents are kept for incidents.retention)`));
      return reply.type('text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'").send(page);
    });
  },
};
