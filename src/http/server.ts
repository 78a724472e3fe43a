/**
 * The HTTP face of the daemon. This file holds what every route shares: the body limit, JSON
 * parsing, errors in words a caller can act on, and who may call (each route's `access`, checked
 * before its body is read). The routes themselves are modules in http/routes/, listed in its index.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type onRequestHookHandler } from 'fastify';
import type { Logger } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { bearerChecker } from './auth.ts';
import { hostnameChecker, isLoopbackIp, parseHostHeader, parseOrigin, type HostPort } from './host-check.ts';
import { errorBody, type Access, type DepsOf, type RouteModule } from './route.ts';
import { ROUTES, type RoutesDeps } from './routes/index.ts';
import { ANONYMOUS, setPerson, Sessions, type Person } from './session.ts';

/** What the shared parts need; each route module adds its own deps (RoutesDeps). */
export interface ServerDeps {
  metrics: Metrics;
  log: Logger;
  token?: string;
  bodyLimit: number;
  /** Host names (for the Host header and Origins) besides loopback ones that may reach 'local' routes, matched exactly: e.g. the public_url's. */
  allowedHosts?: string[];
  /** The address the server is bound to; a loopback bind only answers loopback Host names on 'local' routes. */
  listenHost?: string;
  /** The dashboard's log-ins ('person' routes); without them only the token (or an open dashboard) lets a person in. */
  sessions?: Sessions;
}

export type HttpDeps = ServerDeps & RoutesDeps;

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
 * The server with every route module of the list, each in its own Fastify scope; their routes
 * appear once the server is ready (listen, inject).
 */
export function buildHttpServer(deps: HttpDeps): FastifyInstance;
/** The same with another list of modules (a test's own), given what those modules need. */
export function buildHttpServer<M extends RouteModule<never>>(deps: ServerDeps & DepsOf<M>, routes: readonly M[]): FastifyInstance;
export function buildHttpServer(deps: ServerDeps, routes: readonly RouteModule<never>[] = ROUTES): FastifyInstance {
  const app = Fastify({ bodyLimit: deps.bodyLimit, logger: false, return503OnClosing: true });
  // Webhooks are JSON; a text/plain body would reach the intake as a string and confuse the sender.
  app.removeContentTypeParser('text/plain');
  // Label names are data, and `__proto__` is a valid one: webhook bodies are parsed as JSON.parse
  // does (such a key is an own property, which the intakes treat as data). Other routes keep
  // Fastify's refusal of bodies with `__proto__` or `constructor.prototype` keys.
  const webhookJson = app.getDefaultJsonParser('ignore', 'ignore');
  const otherJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    (req.routeOptions.config?.source ? webhookJson : otherJson)(req, body as string, done),
  );

  // Fastify's own errors (bad JSON, too large, wrong content type) in words a sender can act on.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const source = req.routeOptions.config?.source;
    if (source) deps.metrics.webhookRequests.inc({ source, outcome: (err.statusCode ?? 500) < 500 ? 'invalid' : 'error' });
    // What the sender can change is the intake's to say (its own config's words).
    const hints = req.routeOptions.config?.hints;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send(errorBody(`body is larger than ${deps.bodyLimit} bytes`, `raise http.body_limit_bytes${hints?.tooLarge ? `, or ${hints.tooLarge}` : ''}`));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply.code(415).send(errorBody(`unsupported Content-Type ${req.headers['content-type'] ?? '(none)'}`, 'send the payload as application/json'));
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return reply.code(400).send(errorBody('body is empty; expected a JSON payload'));
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
      return reply.code(400).send(errorBody(`body is not valid JSON${detail}`, `send ${hints?.payload ?? 'the payload'} as JSON`));
    }
    if ((err.statusCode ?? 500) < 500) return reply.code(err.statusCode!).send(errorBody(err.message));
    deps.log.error({ err: err.message, url: req.url }, 'http: unexpected error');
    return reply.code(500).send(errorBody('internal error; see the labwatch log'));
  });

  const guard = accessGuard(deps);
  for (const routeModule of routes) {
    app.register(async (scope) => {
      // Every route of the module gets its access check first, before any hook of its own.
      scope.addHook('onRoute', (route) => {
        const check = guard(route.config?.access ?? 'local', route.url, routeModule.name, route.config?.source);
        if (check) route.onRequest = [check, ...[route.onRequest ?? []].flat()];
      });
      // The signatures above make deps hold what every module of the list needs.
      routeModule.register(scope, deps as never);
    });
  }
  return app;
}

/**
 * Returns the onRequest check for a route's access (none for 'public'). It runs before the body
 * is read: a caller who may not call gets nothing parsed.
 */
function accessGuard(deps: ServerDeps) {
  const authorised = bearerChecker(deps.token);
  // Bound beyond loopback, the names people use are unknown: the token is the protection there.
  const checked = isLoopback(deps.listenHost ?? '127.0.0.1');
  const allowedName = hostnameChecker(deps.allowedHosts ?? []);
  const allowed = (hp: HostPort | null) => !checked || (hp !== null && allowedName(hp.hostname));

  const open = !deps.token;
  /** A person's request: the token, a session (with its CSRF token for a change), or an open dashboard. */
  const person = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const changes = req.method !== 'GET' && req.method !== 'HEAD';
    if (deps.token && authorised(req.headers.authorization)) return setPerson(req, { name: 'api token', via: 'api' });
    const session = await deps.sessions?.read(req).catch((e: Error) => {
      deps.log.warn({ err: e.message }, 'could not read the dashboard session from Redis');
      return undefined;
    });
    if (!session && !open) return reply.code(401).send(errorBody('log in first (POST /api/login with the token), or send Authorization: Bearer <http.token_file>'));
    if (changes && !checked && open) return reply.code(403).send(errorBody('actions are refused: labwatch listens beyond loopback without http.token_file', 'set http.token_file, then log in to the dashboard with that token'));
    if (changes && !(session && Sessions.csrfMatches(req, session.record)))
      return reply.code(403).send(errorBody('missing or wrong X-CSRF-Token for this session', 'reload the page; scripts send Authorization: Bearer <token> instead'));
    const who: Person = session ? { name: session.record.name, via: 'dashboard' } : { name: ANONYMOUS, via: 'dashboard' };
    setPerson(req, who);
    return undefined;
  };

  return (access: Access, url: string, moduleName: string, source: string | undefined): onRequestHookHandler | undefined => {
    if (access === 'public') return undefined;
    return async (req, reply) => {
      if (access !== 'token') {
        // DNS rebinding: a page on another site must not reach a loopback-bound labwatch.
        const host = req.headers.host;
        if (!allowed(host === undefined ? null : parseHostHeader(host))) return reply.code(403).send(refusedName(url, 'Host', host));
        const origin = req.headers.origin;
        // CLI clients send no Origin; a browser's must name an allowed host.
        if (origin !== undefined && !allowed(parseOrigin(origin))) return reply.code(403).send(refusedName(url, 'Origin', origin));
      }
      if (access === 'page') return;
      if (access === 'person') return person(req, reply);
      if (authorised(req.headers.authorization)) return;
      const unauthorised = reply.code(401).header('WWW-Authenticate', 'Bearer realm="labwatch"');
      if (!source) {
        deps.log.warn({ remote: req.ip }, `${moduleName} refused: missing or wrong bearer token`);
        return unauthorised.send(errorBody('missing or wrong bearer token'));
      }
      deps.metrics.webhookRequests.inc({ source, outcome: 'unauthorized' });
      deps.log.warn({ source, remote: req.ip }, 'webhook refused: missing or wrong bearer token');
      return unauthorised.send(errorBody('missing or wrong bearer token', "set http_config.authorization.credentials(_file) in the sender to labwatch's http.token_file"));
    };
  };
}

/** The 403 body for a Host or Origin a 'local' route does not answer, with what to configure. */
function refusedName(url: string, header: 'Host' | 'Origin', value: string | undefined) {
  return {
    ...errorBody(
      `${header} ${value === undefined ? '(none)' : JSON.stringify(value)} is not allowed for ${url}`,
      header === 'Host'
        ? `a loopback-bound labwatch answers ${url} only as 127.0.0.1 (any 127.x.y.z), [::1], localhost or the host of notify.public_url, ` +
            'matched exactly (no trailing dot); connect by one of those, or set notify.public_url to the URL you reach labwatch by'
        : `a browser page may call ${url} only from an http(s) origin on 127.0.0.1, [::1], localhost or the host of notify.public_url, ` +
            'exactly as browsers send it (no path, user:password@ or trailing dot); set notify.public_url to the URL you reach labwatch by, ' +
            'or use a client that sends no Origin',
    ),
    header,
  };
}
