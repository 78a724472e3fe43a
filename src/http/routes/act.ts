/**
 * The signed links in messages (notify/action-links.ts). POST /api/act/:token acknowledges or
 * snoozes the one incident the token names, once: ntfy's button POSTs there. GET /act/:token is
 * the page an email link opens: it says what the button does and POSTs on a press, because mail
 * scanners and link previews follow links, and a GET must never act. Public: the token is the
 * credential. Every action is audited (caller "link") and shows in the incident's timeline.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ActionError, type IncidentActions } from '../../incidents/actions.ts';
import type { ActionLinks, LinkRefusal } from '../../notify/action-links.ts';
import { escapeHtml } from '../../notify/render.ts';
import type { Logger } from '../../telemetry/log.ts';
import type { AuditLog } from '../../tools/audit.ts';
import { formatTime } from '../../util/time.ts';
import { errorBody, type RouteModule } from '../route.ts';

export interface ActDeps {
  /** absent: this labwatch does not act on links (they are only made with notify.public_url) */
  signedLinks?: {
    links: Pick<ActionLinks, 'check' | 'use' | 'used' | 'release'>;
    actions: Pick<IncidentActions, 'acknowledge' | 'snooze'>;
    audit: AuditLog;
    /** the incident's title, secrets scrubbed, or null when there is no such incident */
    incidentTitle: (id: string) => Promise<string | null>;
  };
  log: Logger;
}

const REFUSED: Record<LinkRefusal, string> = {
  forged: 'this link is not valid',
  expired: 'this link has expired',
  used: 'this link was already used',
};
const BY = 'ntfy/email link';
const WHAT = {
  acknowledge: { ask: 'Acknowledge this incident?', button: 'Acknowledge', says: 'Everyone sees that someone is on it, and the reminders stop.', done: 'Acknowledged' },
  snooze: { ask: 'Snooze this incident for 24 hours?', button: 'Snooze 24 h', says: 'No reminders or update messages for 24 hours; an escalation or the resolution still goes out.', done: 'Snoozed' },
} as const;

/** A small page, nothing loaded from anywhere: the title, what happens, at most a button. */
function page(reply: FastifyReply, status: number, heading: string, lines: string[], form?: { action: string; button: string }) {
  const e = escapeHtml;
  const body =
    `<h1>${e(heading)}</h1>${lines.map((l) => `<p>${e(l)}</p>`).join('')}` +
    (form ? `<form method="post" action="${e(form.action)}"><button type="submit">${e(form.button)}</button></form>` : '');
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'no-referrer')
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>labwatch</title>' +
        '<style>:root{color-scheme:light dark}body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.45}' +
        'h1{font-size:1.3rem}button{font-size:1.1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid currentColor;cursor:pointer}</style></head>' +
        `<body>${body}</body></html>`,
    );
}

export const act: RouteModule<ActDeps> = {
  name: 'act',
  register(app, deps) {
    // The token is in the path: a body (a form's, or whatever ntfy's button sends) is read and dropped.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_req, _body, done) => done(null, undefined));

    app.get<{ Params: { token: string } }>('/act/:token', { config: { access: 'public' } }, async (req, reply) => {
      const s = deps.signedLinks;
      if (!s) return page(reply, 404, 'Links are off', ['This labwatch does not act on links from messages.']);
      const checked = await s.links.check(req.params.token);
      if (!checked.ok) return page(reply, 403, 'This link does nothing', [`${capital(REFUSED[checked.reason])}.`, 'Open the dashboard to act on the incident.']);
      if (await s.links.used(checked.claim.nonce)) return page(reply, 403, 'This link does nothing', [`${capital(REFUSED.used)}.`]);
      const title = await s.incidentTitle(checked.claim.incident);
      if (title === null) return page(reply, 404, 'No such incident', ['It may have been resolved and removed since the message was sent.']);
      const what = WHAT[checked.claim.action];
      // Relative, so it works under a path prefix (notify.public_url with a path).
      return page(reply, 200, what.ask, [...(title ? [title] : []), what.says], { action: `../api/act/${req.params.token}`, button: what.button });
    });

    app.post<{ Params: { token: string } }>('/api/act/:token', { config: { access: 'public' } }, async (req, reply) => {
      const form = /^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '');
      const answer = (status: number, json: Record<string, unknown>, heading: string, lines: string[]) =>
        form ? page(reply, status, heading, lines) : reply.code(status).header('Cache-Control', 'no-store').send(json);
      const s = deps.signedLinks;
      if (!s) return answer(404, errorBody('this labwatch does not act on links from messages'), 'Links are off', []);
      const used = await s.links.use(req.params.token).catch((err: Error) => err);
      if (used instanceof Error) return unavailable(req, used, answer, deps.log);
      if (!used.ok) {
        deps.log.info({ reason: used.reason, remote: req.ip }, 'a signed link was refused');
        return answer(403, errorBody(REFUSED[used.reason]), 'Nothing was done', [`${capital(REFUSED[used.reason])}.`]);
      }
      const { incident, action, snoozeMs, nonce } = used.claim;
      const started = Date.now();
      const record = (outcome: string) =>
        s.audit
          .record({ at: new Date(started).toISOString(), caller: 'link', incident, tool: `incident_${action}`, args: { by: BY, via: 'link', ...(snoozeMs ? { snoozeMs } : {}) }, durationMs: Date.now() - started, bytes: 0, outcome })
          .catch(() => undefined);
      try {
        const attention = action === 'acknowledge' ? await s.actions.acknowledge(incident, BY, 'link') : await s.actions.snooze(incident, snoozeMs ?? 0, BY, 'link');
        await record('ok');
        deps.log.info({ incident, action }, 'incident acted on from a signed link');
        const title = await s.incidentTitle(incident).catch(() => null);
        const until = attention.snoozedUntil ? `Until ${formatTime(attention.snoozedUntil.until)}.` : '';
        return answer(200, { ok: true, action, incident }, WHAT[action].done, [...(title ? [title] : []), ...(action === 'snooze' && until ? [until] : [])]);
      } catch (err) {
        if (err instanceof ActionError) {
          await record('error');
          return answer(err.status, errorBody(err.message), 'Nothing was done', [err.message]);
        }
        // Not the person's doing: the link works again.
        await s.links.release(nonce).catch(() => undefined);
        return unavailable(req, err as Error, answer, deps.log);
      }
    });
  },
};

function unavailable(req: FastifyRequest, err: Error, answer: (status: number, json: Record<string, unknown>, heading: string, lines: string[]) => unknown, log: Logger) {
  log.error({ err: err.message, url: req.routeOptions.url }, 'a signed link could not be acted on');
  const msg = 'cannot act on the link right now (Redis unavailable?)';
  return answer(503, errorBody(msg, 'try the link again in a minute'), 'Nothing was done', [`${capital(msg)}; try the link again in a minute.`]);
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
