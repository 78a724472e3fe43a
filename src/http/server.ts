/**
 * The HTTP face of the daemon: webhook intakes, health, readiness and metrics. Webhooks answer
 * 200 only once their anomalies are committed to Redis, 503 (which Alertmanager retries) when
 * they cannot be, and 400 with the field and the problem (never retried) for bad payloads.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { PayloadError, type WebhookIntake } from '../connectors/types.ts';
import type { Intake } from '../incidents/intake.ts';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { bearerChecker } from './auth.ts';
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
  /** Hosts (for the Host header and Origins) besides loopback names that may reach /mcp, e.g. the public_url's. */
  allowedHosts?: string[];
  /** The address the server is bound to; a loopback bind only answers loopback Host names. */
  listenHost?: string;
  /** Each readiness check returns null when fine, or what is wrong. */
  readiness: Record<string, () => Promise<string | null>>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`http.listen: "${listen}" is not host:port`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function errorBody(error: string, hint?: string) {
  return hint ? { error, hint } : { error };
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ bodyLimit: deps.bodyLimit, logger: false, return503OnClosing: true });
  const authorised = bearerChecker(deps.token);
  // Webhooks are JSON; a text/plain body would reach the intake as a string and confuse the sender.
  app.removeContentTypeParser('text/plain');

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
        try {
          anomalies = intake.parse(req.body);
        } catch (err) {
          if (!(err instanceof PayloadError)) throw err;
          deps.metrics.webhookRequests.inc({ source, outcome: 'invalid' });
          deps.log.warn({ source, remote: req.ip, err: err.message }, 'webhook payload refused');
          return reply.code(400).send(errorBody(err.message));
        }
        try {
          const committed = await deps.intake.accept(anomalies);
          deps.metrics.webhookRequests.inc({ source, outcome: 'accepted' });
          return reply.send({ status: 'ok', anomalies: anomalies.length, incidents: committed.map((c) => c.incidentId) });
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
    const loopbackNames = ['localhost', '127.0.0.1', '::1', '[::1]'];
    const allowedHost = (host: string) =>
      !isLoopback(deps.listenHost ?? '127.0.0.1') || loopbackNames.includes(host) || /^127\./.test(host) || (deps.allowedHosts ?? []).includes(host);
    const hostOf = (h: string) => h.replace(/:\d+$/, ''); // "[::1]:9877" → "[::1]", "localhost:9877" → "localhost"
    app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      // Before the body is read, as for webhooks.
      onRequest: async (req, reply) => {
        // DNS rebinding: a page on another site must not reach a loopback-bound labwatch.
        if (!allowedHost(hostOf(req.headers.host ?? ''))) return reply.code(403).send(errorBody(`Host ${req.headers.host ?? '(none)'} is not allowed for /mcp`));
        const origin = req.headers.origin;
        // CLI clients send no Origin; a browser's must name an allowed host.
        if (origin !== undefined) {
          let ok = false;
          try {
            ok = allowedHost(hostOf(new URL(origin).host));
          } catch {
            ok = false;
          }
          if (!ok) return reply.code(403).send(errorBody(`Origin ${origin} is not allowed for /mcp`));
        }
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
    const ready = Object.keys(problems).length === 0;
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready' } : { status: 'not ready', problems });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}
