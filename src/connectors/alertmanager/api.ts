/**
 * A small client for Alertmanager's API v2 (/api/v2/…), over the global fetch.
 *
 * Debian ships Alertmanager 0.25; upstream adds fields release by release. Responses are checked
 * for the fields labwatch uses only; unknown fields are accepted and dropped (so `config.original`
 * in /api/v2/status, Alertmanager's whole configuration, never travels further).
 *
 * Every failure is an AlertmanagerError whose kind says what went wrong and whose message names
 * the URL and what to check. Credentials never appear in a message.
 */
import * as z from 'zod';
import { issueMessage, issuePath } from '../../util/zod.ts';

export type AlertmanagerErrorKind = 'unreachable' | 'timeout' | 'server' | 'bad_request' | 'bad_response';

export class AlertmanagerError extends Error {
  override name = 'AlertmanagerError';
  constructor(
    readonly kind: AlertmanagerErrorKind,
    message: string,
    /** the HTTP status, when there was an answer */
    readonly status?: number,
  ) {
    super(message);
  }
}

const labelSet = z.record(z.string(), z.string());

const alertSchema = z.object({
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  updatedAt: z.string().optional(),
  fingerprint: z.string(),
  generatorURL: z.string().optional(),
  receivers: z.array(z.object({ name: z.string() })).default([]),
  status: z.object({
    /** "active" | "suppressed" | "unprocessed" in 0.25; a string, so a future state still parses */
    state: z.string(),
    silencedBy: z.array(z.string()).nullish().transform((v) => v ?? []),
    inhibitedBy: z.array(z.string()).nullish().transform((v) => v ?? []),
    /** newer versions only: time intervals muting the alert */
    mutedBy: z.array(z.string()).optional(),
  }),
});

const matcherSchema = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  /** absent before 0.22, where every matcher is "=" or "=~" */
  isEqual: z.boolean().default(true),
});

const silenceSchema = z.object({
  id: z.string(),
  matchers: z.array(matcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string().optional(),
  createdBy: z.string(),
  comment: z.string(),
  /** "active" | "pending" | "expired" */
  status: z.object({ state: z.string() }),
});

const statusSchema = z.object({
  /** when this Alertmanager started (an RFC 3339 time, despite its name) */
  uptime: z.string(),
  versionInfo: z.object({
    version: z.string(),
    revision: z.string().optional(),
    branch: z.string().optional(),
    buildDate: z.string().optional(),
    goVersion: z.string().optional(),
  }),
  cluster: z.object({
    /** "ready" | "settling" | "disabled" */
    status: z.string(),
    name: z.string().optional(),
    peers: z.array(z.object({ name: z.string(), address: z.string() })).nullish().transform((v) => v ?? []),
  }),
});

export type Alert = z.infer<typeof alertSchema>;
export type Silence = z.infer<typeof silenceSchema>;
export type Matcher = z.infer<typeof matcherSchema>;
export type AlertmanagerStatus = z.infer<typeof statusSchema>;

export interface AlertsQuery {
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  unprocessed?: boolean;
  /** label matchers in Alertmanager's syntax: `instance="nas:9100"`, `severity=~"crit.*"` */
  filter?: string[];
  /** a regular expression on receiver names */
  receiver?: string;
}

export interface NewSilence {
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export interface AlertmanagerApiOptions {
  /** Alertmanager's root, including any --web.route-prefix */
  url: string;
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
}

const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed',
};

export class AlertmanagerApi {
  readonly #base: URL;
  readonly #headers: Record<string, string>;

  constructor(private readonly opts: AlertmanagerApiOptions) {
    const base = new URL(opts.url);
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    this.#headers = { accept: 'application/json' };
    if (opts.bearerToken) this.#headers.authorization = `Bearer ${opts.bearerToken}`;
    else if (opts.basicAuth)
      this.#headers.authorization = `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`;
  }

  /** GET /api/v2/alerts: Alertmanager's default is every state (true for all four flags). */
  async alerts(q: AlertsQuery = {}, signal?: AbortSignal): Promise<Alert[]> {
    const params = new URLSearchParams();
    for (const k of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) if (q[k] !== undefined) params.set(k, String(q[k]));
    for (const f of q.filter ?? []) params.append('filter', f);
    if (q.receiver) params.set('receiver', q.receiver);
    return this.#call('GET', 'api/v2/alerts', params, undefined, z.array(alertSchema), signal);
  }

  /** GET /api/v2/silences: active, pending and expired ones (expired are kept for a retention period). */
  async silences(filter: string[] = [], signal?: AbortSignal): Promise<Silence[]> {
    const params = new URLSearchParams();
    for (const f of filter) params.append('filter', f);
    return this.#call('GET', 'api/v2/silences', params, undefined, z.array(silenceSchema), signal);
  }

  /** GET /api/v2/status: version, start time, cluster state. */
  async status(signal?: AbortSignal): Promise<AlertmanagerStatus> {
    return this.#call('GET', 'api/v2/status', undefined, undefined, statusSchema, signal);
  }

  /** POST /api/v2/silences; returns the new silence's id. Alertmanager moves a past startsAt to now. */
  async createSilence(s: NewSilence, signal?: AbortSignal): Promise<string> {
    const body = { matchers: s.matchers, startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment };
    const r = await this.#call('POST', 'api/v2/silences', undefined, body, z.object({ silenceID: z.string().min(1) }), signal);
    return r.silenceID;
  }

  async #call<T>(method: 'GET' | 'POST', path: string, params: URLSearchParams | undefined, body: unknown, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const url = new URL(path, this.#base);
    if (params?.size) url.search = params.toString();
    // Messages name the URL without its query (filters can be long) and without credentials.
    const where = `alertmanager: ${method} ${url.origin}${url.pathname}`;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const headers = { ...this.#headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (timeout.aborted) throw new AlertmanagerError('timeout', `${where}: no answer within ${this.opts.timeoutMs} ms; check that Alertmanager is up and not overloaded, or raise alertmanager.timeout`);
      if (signal?.aborted) throw new AlertmanagerError('timeout', `${where}: cancelled before Alertmanager answered (the tool call ran out of time)`);
      throw new AlertmanagerError('unreachable', `${where}: ${describeConnectError(e)}; check that Alertmanager is running and that alertmanager.url (${url.origin}) is right`);
    }
    if (res.status >= 500)
      throw new AlertmanagerError('server', `${where}: Alertmanager answered ${res.status} ${res.statusText}: ${start(text) || '(empty body)'}; check its log`, res.status);
    if (res.status >= 400) throw new AlertmanagerError('bad_request', `${where}: ${res.status} ${res.statusText}: ${errorText(text) || '(empty body)'}${hint(res.status)}`, res.status);
    if (res.status < 200 || res.status > 299) throw new AlertmanagerError('bad_response', `${where}: unexpected answer ${res.status} ${res.statusText}`, res.status);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AlertmanagerError('bad_response', `${where}: the answer is not JSON (${start(text) || 'empty'}); check that alertmanager.url points at Alertmanager itself, not a login page or another service`, res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new AlertmanagerError('bad_response', `${where}: unexpected answer at ${issuePath(i.path) || 'top level'}: ${issueMessage(i)}; is this Alertmanager 0.16 or newer (API v2)?`, res.status);
    }
    return parsed.data;
  }
}

function describeConnectError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e as { code?: string }).code;
  if (code && CONNECT_ERRORS[code]) return `${CONNECT_ERRORS[code]} (${code})`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `the server does not speak TLS (${code}); use http:// if Alertmanager serves plain HTTP`;
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return `TLS certificate not accepted (${code}); check the certificate or use the right host name`;
  const msg = cause?.message ?? (e as Error).message ?? String(e);
  // undici refuses the Fetch standard's blocked ports (1, 22, 25, 6000, 10080, …) before connecting
  return msg === 'bad port' ? 'fetch refuses this port (it is on the Fetch standard\'s blocked-port list); serve Alertmanager on another port' : msg;
}

/** The start of a body, on one line, for a message. */
function start(text: string, max = 200): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Alertmanager's error text: a JSON string ("silence invalid: …") or {code, message}. */
function errorText(text: string): string {
  try {
    const j = JSON.parse(text) as unknown;
    if (typeof j === 'string') return start(j, 500);
    if (j && typeof j === 'object' && typeof (j as { message?: unknown }).message === 'string') return start((j as { message: string }).message, 500);
  } catch {
    // not JSON: a proxy's page
  }
  return start(text);
}

function hint(status: number): string {
  if (status === 401 || status === 403) return '; check bearer_token_file or basic_auth (Alertmanager itself has no auth: a proxy in front refused)';
  if (status === 404) return '; check alertmanager.url, including any --web.route-prefix (API v2 needs Alertmanager 0.16 or newer)';
  return '';
}
