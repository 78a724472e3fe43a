/**
 * The HTTP face of the daemon: webhook intakes, health, readiness and metrics. Webhooks answer
 * 200 only once their anomalies are committed to Redis, 503 (which Alertmanager retries) when
 * they cannot be, and 400 with the field and the problem (never retried) for bad payloads.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { PayloadError, type WebhookIntake } from '../connectors/types.ts';
import { TRUNCATED_WHAT } from '../connectors/limits.ts';
import type { Intake } from '../incidents/intake.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { bearerChecker } from './auth.ts';
import { hostnameChecker, isLoopbackIp, parseHostHeader, parseOrigin } from './host-check.ts';
import type { McpHttpHandler } from '../mcp/http.ts';

export interface HttpDeps {
  intakes: WebhookIntake[];
  intake: Intake;
  metrics: Metrics;
  log: Logger;
  token?: string;
  bodyLimit: number;
  /** The HTML page of an incident's latest report, or null when there is no such incident. */
  incidentPage?: (id: string) => Promise<string | null>;
  /** MCP over streamable HTTP at /mcp, behind the token and Host/Origin checks. */
  mcp?: McpHttpHandler;
  /** Host names (for the Host header and Origins) besides loopback ones that may reach /mcp, matched exactly: e.g. the public_url's. */
  allowedHosts?: string[];
  /** The address the server is bound to; a loopback bind only answers loopback Host names. */
  listenHost?: string;
  /** Each readiness check returns null when fine, or what is wrong. */
  readiness: Record<string, () => Promise<string | null>>;
  /** Like readiness, but a problem is listed under `warnings` without making /readyz 503 (e.g. the audit file). */
  warnings?: Record<string, () => Promise<string | null>>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`http.listen: "${listen}" is not host:port`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || isLoopbackIp(host);
}

/**
 * A payload is committed this many anomalies at a time, in order, before the answer: each Redis
 * call stays small (a 40,000-alert body in one call failed as if Redis were down) and repeats of
 * the part already committed are no-ops if the sender retries after a failure half-way.
 */
export const ACCEPT_CHUNK = 1000;

function errorBody(error: string, hint?: string) {
  return hint ? { error, hint } : { error };
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ bodyLimit: deps.bodyLimit, logger: false, return503OnClosing: true });
  const authorised = bearerChecker(deps.token);
  // Webhooks are JSON; a text/plain body would reach the intake as a string and confuse the sender.
  app.removeContentTypeParser('text/plain');
  // Label names are data, and `__proto__` is a valid one: webhook bodies are parsed as JSON.parse
  // does (such a key is an own property, which the intakes treat as data). Other routes keep
  // Fastify's refusal of bodies with `__proto__` or `constructor.prototype` keys.
  const webhookJson = app.getDefaultJsonParser('ignore', 'ignore');
  const otherJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    ((req.routeOptions.config as { source?: string } | undefined)?.source ? webhookJson : otherJson)(req, body as string, done),
  );

  // Fastify's own errors (bad JSON, too large, wrong content type) in words a sender can act on.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const source = (req.routeOptions.config as { source?: string } | undefined)?.source;
    if (source) deps.metrics.webhookRequests.inc({ source, outcome: (err.statusCode ?? 500) < 500 ? 'invalid' : 'error' });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send(errorBody(`body is larger than ${deps.bodyLimit} bytes`, 'raise http.body_limit_bytes, or lower max_alerts in the Alertmanager webhook config'));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply.code(415).send(errorBody(`unsupported Content-Type ${req.headers['content-type'] ?? '(none)'}`, 'send the payload as application/json'));
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(400).send(errorBody('body is empty; expected a JSON payload'));
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
      return reply.code(400).send(errorBody(`body is not valid JSON${detail}`, 'send the Alertmanager webhook payload as JSON'));
    }
    if ((err.statusCode ?? 500) < 500) return reply.code(err.statusCode!).send(errorBody(err.message));
    deps.log.error({ err: err.message, url: req.url }, 'http: unexpected error');
    return reply.code(500).send(errorBody('internal error; see the labwatch log'));
  });

  for (const intake of deps.intakes) {
    const source = intake.source;
    for (const what of TRUNCATED_WHAT) deps.metrics.webhookTruncated.inc({ source, what }, 0);
    app.post(
      `/webhook/${intake.path}`,
      {
        config: { source },
        // Before the body is read: an unauthorised sender gets nothing parsed.
        onRequest: async (req, reply) => {
          if (!authorised(req.headers.authorization)) {
            deps.metrics.webhookRequests.inc({ source, outcome: 'unauthorized' });
            deps.log.warn({ source, remote: req.ip }, 'webhook refused: missing or wrong bearer token');
            return reply
              .code(401)
              .header('WWW-Authenticate', 'Bearer realm="labwatch"')
              .send(errorBody('missing or wrong bearer token', "set http_config.authorization.credentials(_file) in the sender to labwatch's http.token_file"));
          }
        },
      },
      async (req, reply) => {
        let anomalies;
        const cuts = new Map<string, number>();
        const onTruncated = (what: string, n: number) => {
          deps.metrics.webhookTruncated.inc({ source, what }, n);
          cuts.set(what, (cuts.get(what) ?? 0) + n);
        };
        try {
          anomalies = intake.parse(req.body, onTruncated);
          // The parsed body (up to body_limit_bytes of JSON objects) is not needed while Redis answers.
          req.body = undefined;
        } catch (err) {
          if (!(err instanceof PayloadError)) throw err;
          deps.metrics.webhookRequests.inc({ source, outcome: 'invalid' });
          deps.log.warn({ source, remote: req.ip, err: err.message }, 'webhook payload refused');
          return reply.code(400).send(errorBody(err.message));
        }
        if (cuts.size) deps.log.warn({ source, remote: req.ip, cut: Object.fromEntries(cuts) }, 'webhook: values over the size limits were cut or left out (see labwatch_webhook_truncated_total)');
        try {
          const incidents = new Set<string>();
          for (let i = 0; i < anomalies.length; i += ACCEPT_CHUNK) {
            for (const c of await deps.intake.accept(anomalies.slice(i, i + ACCEPT_CHUNK))) incidents.add(c.incidentId);
          }
          deps.metrics.webhookRequests.inc({ source, outcome: 'accepted' });
          return reply.send({ status: 'ok', anomalies: anomalies.length, incidents: [...incidents] });
        } catch (err) {
          deps.metrics.webhookRequests.inc({ source, outcome: 'unavailable' });
          deps.log.error({ source, err: (err as Error).message }, 'webhook not stored: Redis unavailable; answering 503 so the sender retries');
          return reply
            .code(503)
            .header('Retry-After', '10')
            .send(errorBody('cannot store the alerts right now (Redis unavailable)', 'nothing was lost: the sender should retry'));
        }
      },
    );
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  if (deps.mcp) {
    const handler = deps.mcp;
    // Bound beyond loopback, the names people use are unknown: the token is the protection there.
    const checked = isLoopback(deps.listenHost ?? '127.0.0.1');
    const allowedName = hostnameChecker(deps.allowedHosts ?? []);
    const allowed = (hp: { hostname: string } | null) => !checked || (hp !== null && allowedName(hp.hostname));
    const refuse = (header: 'Host' | 'Origin', value: string | undefined) => ({
      ...errorBody(
        `${header} ${value === undefined ? '(none)' : JSON.stringify(value)} is not allowed for /mcp`,
        header === 'Host'
          ? 'a loopback-bound labwatch answers /mcp only as 127.0.0.1 (any 127.x.y.z), [::1], localhost or the host of notify.public_url, ' +
              'matched exactly (no trailing dot); connect by one of those, or set notify.public_url to the URL you reach labwatch by'
          : 'a browser page may call /mcp only from an http(s) origin on 127.0.0.1, [::1], localhost or the host of notify.public_url, ' +
              'exactly as browsers send it (no path, user:password@ or trailing dot); set notify.public_url to the URL you reach labwatch by, ' +
              'or use a client that sends no Origin',
      ),
      header,
    });
    app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      // Before the body is read, as for webhooks.
      onRequest: async (req, reply) => {
        // DNS rebinding: a page on another site must not reach a loopback-bound labwatch.
        const host = req.headers.host;
        if (!allowed(host === undefined ? null : parseHostHeader(host))) return reply.code(403).send(refuse('Host', host));
        const origin = req.headers.origin;
        // CLI clients send no Origin; a browser's must name an allowed host.
        if (origin !== undefined && !allowed(parseOrigin(origin))) return reply.code(403).send(refuse('Origin', origin));
        if (!authorised(req.headers.authorization)) {
          deps.log.warn({ remote: req.ip }, 'mcp refused: missing or wrong bearer token');
          return reply.code(401).header('WWW-Authenticate', 'Bearer realm="labwatch"').send(errorBody('missing or wrong bearer token'));
        }
      },
      handler: async (req, reply) => {
        if (req.method !== 'POST')
          return reply.code(405).header('Allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'labwatch serves MCP statelessly: POST only' }, id: null });
        reply.hijack();
        await handler(req.raw, reply.raw, req.body);
      },
    });
  }

  // Read-only: the latest report of one incident (what a truncated ntfy message links to).
  app.get<{ Params: { id: string } }>('/incidents/:id', async (req, reply) => {
    if (!/^inc-[0-9a-f]{10}-[0-9a-z]{1,12}$/.test(req.params.id)) return reply.code(400).send(errorBody('not an incident id; ids look like inc-0123456789-mwv0a5ue'));
    const page = await deps.incidentPage?.(req.params.id);
    if (!page) return reply.code(404).send(errorBody(`no incident ${req.params.id} (resolved incidents are kept for incidents.retention)`));
    return reply.type('text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'").send(page);
  });

  app.get('/readyz', async (_req, reply) => {
    const problems: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        const problem = await check().catch((e: Error) => e.message);
        if (problem) problems[name] = problem;
      }),
    );
    const warnings: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.warnings ?? {}).map(async ([name, check]) => {
        const problem = await check().catch((e: Error) => e.message);
        if (problem) warnings[name] = problem;
      }),
    );
    const ready = Object.keys(problems).length === 0;
    const also = Object.keys(warnings).length ? { warnings } : {};
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready', ...also } : { status: 'not ready', problems, ...also });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}
