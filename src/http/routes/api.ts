/**
 * The dashboard's JSON API under /api/ (shapes in http/api/types.ts, documented in README): log-in,
 * incidents and their investigation, people's actions on them, the latest readings of drives,
 * pools and everything else, labwatch's own status, the audit trail, and live updates (SSE).
 * Reads need a person (session, token, or an open dashboard); actions also a CSRF token.
 */
import * as z from 'zod';
import { ms } from '../../config/parts.ts';
import { ActionError, type IncidentActions } from '../../incidents/actions.ts';
import { INCIDENT_ID, type Incident } from '../../incidents/types.ts';
import type { Audit } from '../../tools/audit.ts';
import type { IncidentFeed } from '../api/feed.ts';
import type { DashboardReader, IncidentFilter } from '../api/read.ts';
import type { SessionInfo, StatusAnswer } from '../api/types.ts';
import { bearerChecker } from '../auth.ts';
import { errorBody, type RouteModule } from '../route.ts';
import { ANONYMOUS, personOf, type Sessions } from '../session.ts';
import { issueMessage, issuePath } from '../../util/zod.ts';
import type { FastifyReply } from 'fastify';
import { redact } from '../../notify/render.ts';

export interface DashboardApi {
  reader: DashboardReader;
  actions: IncidentActions;
  feed: IncidentFeed;
  sessions: Sessions;
  audit: Audit;
  /** the bearer token (http.token_file), which is also the log-in secret; none: an open dashboard */
  token?: string;
  /** false when labwatch listens beyond loopback without a token: actions are refused */
  writable: boolean;
  status: () => Promise<StatusAnswer>;
  /** configured secrets: scrubbed from everything the API answers, as from every message */
  secrets: readonly string[];
  /** silences an incident's alerts at their source (a write tool the config enabled), when possible */
  silence?: (incident: Incident, durationMs: number, by: string) => Promise<{ id: string; until: string }>;
}

export interface ApiDeps {
  dashboard?: DashboardApi;
}

const login = z.strictObject({ token: z.string().min(1).max(4096), name: z.string().trim().min(1).max(60).regex(/^[^\u0000-\u001f<>]+$/, 'letters, digits, spaces and punctuation') });
const snooze = z.strictObject({ duration: z.string().regex(/^\d{1,6}(m|h|d)$/, 'a duration such as "1h", "24h" or "7d"') });
/** Alertmanager silences from the dashboard: as long as the write tool allows, 30 minutes to 7 days. */
const silenceBody = z.strictObject({
  duration: z
    .string()
    .regex(/^\d{1,6}(m|h|d)$/, 'a duration such as "2h" or "1d"')
    .refine((d) => ms(d) >= 30 * 60_000 && ms(d) <= 7 * 86_400_000, 'a silence lasts from 30m to 7d'),
});
const filter = z.object({
  state: z.enum(['firing', 'resolved', 'all']).optional(),
  severity: z.enum(['critical', 'warning', 'info']).optional(),
  host: z.string().max(200).optional(),
  source: z.string().max(100).optional(),
  subject: z.string().max(300).optional(),
});

function invalid(reply: FastifyReply, what: string, error: z.ZodError) {
  return reply.code(400).send(errorBody(`${what}: ${error.issues.map((i) => `${issuePath(i.path) || 'body'}: ${issueMessage(i)}`).join('; ')}`));
}

export const api: RouteModule<ApiDeps> = {
  name: 'dashboard api',
  register(app, deps) {
    const d = deps.dashboard;
    if (!d) return;
    const open = !d.token;
    const clean = <T>(v: T): T => redact(v, d.secrets);
    const tokenMatches = bearerChecker(d.token);
    const person = { config: { access: 'person' as const } };
    const page = { config: { access: 'page' as const } };

    const sessionInfo = (s: { csrf: string; name: string } | undefined): SessionInfo => ({
      authenticated: s !== undefined,
      ...(s ? { name: s.name, csrf: s.csrf } : {}),
      open,
      writable: d.writable && (s !== undefined || open),
      ...(open
        ? { banner: d.writable ? 'This dashboard is open: no http.token_file is set, so anyone who can reach this address may use it.' : 'No http.token_file is set and labwatch listens beyond loopback: this dashboard is read-only. Set http.token_file to act on incidents.' }
        : {}),
      loginRequired: !open && s === undefined,
    });

    app.get('/api/session', page, async (req, reply) => {
      const found = await d.sessions.read(req);
      if (found) return sessionInfo({ csrf: found.record.csrf, name: found.record.name });
      // An open dashboard still needs a CSRF token for its POSTs: an anonymous session carries it.
      if (open && d.writable) return sessionInfo(await d.sessions.start(req, reply, ANONYMOUS, true));
      return sessionInfo(undefined);
    });
    app.post('/api/login', page, async (req, reply) => {
      const body = login.safeParse(req.body ?? {});
      if (!body.success) return invalid(reply, 'log-in', body.error);
      if (open) return reply.code(400).send(errorBody('no log-in needed: http.token_file is not set'));
      if (!tokenMatches(`Bearer ${body.data.token}`)) return reply.code(401).send(errorBody('wrong token', "use the token in labwatch's http.token_file"));
      return sessionInfo(await d.sessions.start(req, reply, body.data.name));
    });
    app.post('/api/logout', page, async (req, reply) => {
      await d.sessions.end(req, reply);
      return { ok: true };
    });

    app.get<{ Querystring: Record<string, string> }>('/api/incidents', person, async (req, reply) => {
      const f = filter.safeParse(req.query);
      if (!f.success) return invalid(reply, 'filter', f.error);
      return clean({ incidents: await d.reader.incidents(f.data as IncidentFilter) });
    });
    app.get<{ Params: { id: string } }>('/api/incidents/:id', person, async (req, reply) => {
      if (!INCIDENT_ID.test(req.params.id)) return reply.code(400).send(errorBody('not an incident id; ids look like inc-0123456789-mwv0a5ue'));
      const detail = await d.reader.detail(req.params.id);
      return detail ? clean(detail) : reply.code(404).send(errorBody(`no incident ${req.params.id} (resolved incidents are kept for incidents.retention)`));
    });
    app.get<{ Params: { id: string; n: string } }>('/api/incidents/:id/calls/:n', person, async (req, reply) => {
      if (!INCIDENT_ID.test(req.params.id) || !/^\d{1,4}$/.test(req.params.n)) return reply.code(400).send(errorBody('expected /api/incidents/<incident id>/calls/<number>'));
      const result = await d.reader.callResult(req.params.id, Number(req.params.n));
      return result === undefined ? reply.code(404).send(errorBody(`incident ${req.params.id} has no tool call ${req.params.n}`)) : clean({ result });
    });

    /** An action on an incident: done as the person, its body checked, audited, refused in words a person can act on. */
    const act = <B extends z.ZodType>(tool: string, body: B, run: (id: string, body: z.infer<B>, who: { name: string; via: string }) => Promise<object>) =>
      app.post<{ Params: { id: string } }>(`/api/incidents/:id/${tool}`, person, async (req, reply) => {
        if (!INCIDENT_ID.test(req.params.id)) return reply.code(400).send(errorBody('not an incident id; ids look like inc-0123456789-mwv0a5ue'));
        const parsed = body.safeParse(req.body ?? {});
        if (!parsed.success) return invalid(reply, tool, parsed.error);
        const who = personOf(req);
        const started = Date.now();
        let outcome = 'ok';
        try {
          return clean(await run(req.params.id, parsed.data, who));
        } catch (e) {
          outcome = 'error';
          if (e instanceof ActionError) return reply.code(e.status).send(errorBody(clean(e.message)));
          throw e;
        } finally {
          // Only what was checked goes to the audit trail, and `by` is always the person's.
          await d.audit.record({ at: new Date(started).toISOString(), caller: who.via, incident: req.params.id, tool: `incident_${tool}`, args: { ...(parsed.data as object), by: who.name }, durationMs: Date.now() - started, bytes: 0, outcome });
        }
      });
    const nothing = z.strictObject({});
    act('acknowledge', nothing, async (id, _b, who) => ({ attention: await d.actions.acknowledge(id, who.name, who.via) }));
    act('snooze', snooze, async (id, body, who) => ({ attention: await d.actions.snooze(id, ms(body.duration), who.name, who.via) }));
    act('unsnooze', nothing, async (id, _b, who) => ({ attention: await d.actions.unsnooze(id, who.name, who.via) }));
    act('resolve', nothing, async (id, _b, who) => {
      await d.actions.resolveByHand(id, who.name, who.via);
      return { ok: true };
    });
    act('silence', silenceBody, async (id, body, who) => {
      const detail = await d.reader.detail(id);
      if (!detail) throw new ActionError(`no incident ${id}`, 404);
      if (!d.silence || !detail.can.silence) throw new ActionError('silencing is not enabled for this incident (alertmanager.write_tools must list the silence tool, and the incident must hold firing alerts from it)', 409);
      const incident = { ...detail.incident, anomalies: Object.fromEntries(detail.anomalies.map((a) => [a.fingerprint, a])) } as unknown as Incident;
      let made: { id: string; until: string };
      try {
        made = await d.silence(incident, ms(body.duration), who.name);
      } catch (e) {
        throw new ActionError(`the silence could not be made: ${(e as Error).message}`, 502);
      }
      await d.actions.noteSilence(id, made.id, made.until, who.name, who.via);
      return { silence: made.id, until: made.until };
    });

    app.get<{ Querystring: { kind?: string } }>('/api/subjects', person, async (req) => clean({ subjects: await d.reader.subjects(req.query.kind?.slice(0, 50)) }));
    app.get<{ Params: { subject: string }; Querystring: { host?: string } }>('/api/subjects/:subject/history', person, async (req) =>
      d.reader.history(req.params.subject.slice(0, 300), typeof req.query.host === 'string' ? req.query.host.slice(0, 64) : undefined),
    );
    app.get('/api/status', person, async () => clean(await d.status()));
    app.get<{ Querystring: { limit?: string } }>('/api/audit', person, async (req) => ({ entries: await d.audit.recent(Math.min(500, Math.max(1, Number(req.query.limit) || 100))) }));

    // Open streams end before the server closes (a hijacked stream would hold close() open), so
    // stopping labwatch never waits on a browser tab.
    const streams = new Set<import('node:http').ServerResponse>();
    app.addHook('preClose', async () => {
      for (const res of streams) res.end();
      d.feed.close();
    });
    app.get('/api/events', person, (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      streams.add(res);
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      res.write(': labwatch incident feed\n\n');
      const stop = d.feed.listen((row) => res.write(`event: incident\ndata: ${JSON.stringify(clean(row))}\n\n`));
      // A session that ended (logged out, a new token) ends its stream at the next ping.
      const bySession = !open && personOf(req).via === 'dashboard';
      const ping = setInterval(() => {
        if (!bySession) return void res.write(': ping\n\n');
        void d.sessions.read(req).then(
          (still) => (still ? res.write(': ping\n\n') : res.end()),
          () => res.write(': ping\n\n'),
        );
      }, 15_000);
      req.raw.on('close', () => {
        streams.delete(res);
        clearInterval(ping);
        stop();
      });
    });
  },
};
