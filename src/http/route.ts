/**
 * The contract of an HTTP route module (`http/routes/<name>.ts`): a name and a `register` that
 * adds its routes given only the deps it declares. The server (http/server.ts) owns what every
 * route shares: body limit, JSON parsing, the error handler and who may call (`access`).
 */
import type { FastifyInstance } from 'fastify';

/**
 * Who may call a route; a route says so in `config.access`, and one that says nothing is 'local'
 * so a new route (the dashboard, `/api/*`) is never open by omission.
 * - `public`: anyone who can connect (health, metrics, the incident page a notification links to);
 * - `token`: the bearer token (http.token_file) from any Host, as webhook senders on other machines need;
 * - `local`: the token, and on a loopback bind also a loopback name (or notify.public_url's host)
 *   in Host and Origin, so a web page on another site cannot reach it by DNS rebinding;
 * - `person`: the dashboard API: Host and Origin as `local`, then the token or a session cookie
 *   (http/session.ts), and for every state-changing request with the cookie its CSRF token; open
 *   without a token on loopback, read-only without one beyond it. `personOf(req)` says who.
 * - `page`: Host and Origin as `local` and nothing else: the log-in itself.
 */
export type Access = 'public' | 'token' | 'local' | 'person' | 'page';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * Set on webhook routes, to the sender's source: their JSON keeps `__proto__` keys as data
     * (label names), and refusals and Fastify's errors are counted in its webhook metrics.
     */
    source?: string;
    /** the intake's words for its sender's errors (connectors/types.ts WebhookIntake.hints) */
    hints?: { payload?: string; tooLarge?: string } | undefined;
  }
}

export interface RouteModule<Deps> {
  name: string;
  /** Adds the module's routes to `app` (the module's own Fastify scope). */
  register: (app: FastifyInstance, deps: Deps) => void;
}

/** What a list of route modules needs: every module's deps together. */
export type DepsOf<M> =
  // Each module's deps as a parameter type; the union of those functions reads back as the intersection.
  (M extends RouteModule<infer D> ? (deps: D) => void : never) extends (deps: infer All) => void ? All : never;

/** The JSON body of every refusal and error: what went wrong and, when the caller can fix it, how. */
export function errorBody(error: string, hint?: string): { error: string; hint?: string } {
  return hint ? { error, hint } : { error };
}
