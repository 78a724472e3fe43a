/**
 * A small client for Prometheus' HTTP API (/api/v1): global fetch, a timeout on every call, the
 * body read capped, and every failure turned into a PrometheusError that says what went wrong
 * and what to check. Secrets (bearer token, basic-auth password) never appear in its messages.
 */
import type { Alert, BuildInfo, PrometheusResult, QueryData, RuleGroup, TargetsData } from './types.ts';

export type * from './types.ts';

export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'bad_response' | 'query';

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    readonly details: { url: string; status?: number; errorType?: string; promError?: string; expr?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 (a path prefix such as /prometheus is kept). */
  url: string;
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** Largest response body read; default 16 MiB. */
  maxBodyBytes?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

type Time = Date | number;
/** Longer query strings go in a POST body: proxies and Prometheus' own URL limit stay out of the way. */
const MAX_GET_QUERY = 2000;
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Prometheus takes unix seconds (fractions allowed) or RFC 3339. */
function promTime(t: Time): string {
  const ms = t instanceof Date ? t.getTime() : t * 1000;
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid time: ${String(t)}`);
  return (ms / 1000).toFixed(3);
}

export class PrometheusClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #maxBody: number;
  readonly #auth: string | undefined;
  readonly #secrets: string[];

  constructor(opts: PrometheusClientOptions) {
    const u = new URL(opts.url);
    let basic = opts.basicAuth;
    // fetch refuses URLs carrying credentials: take them as basic auth and keep them out of messages
    if ((u.username || u.password) && !basic) basic = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    this.baseUrl = u.toString().replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs;
    this.#maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (opts.bearerToken) this.#auth = `Bearer ${opts.bearerToken}`;
    else if (basic) this.#auth = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    this.#secrets = [opts.bearerToken, basic?.password, this.#auth?.split(' ')[1]].filter((s): s is string => !!s && s.length >= 3);
  }

  /** An instant query at `time` (default: now on Prometheus' clock). */
  query(expr: string, time?: Time, o?: CallOptions): Promise<PrometheusResult<QueryData>> {
    const p: [string, string][] = [['query', expr]];
    if (time !== undefined) p.push(['time', promTime(time)]);
    return this.#call('/api/v1/query', p, o, expr);
  }

  queryRange(expr: string, start: Time, end: Time, stepSeconds: number, o?: CallOptions): Promise<PrometheusResult<QueryData>> {
    const p: [string, string][] = [['query', expr], ['start', promTime(start)], ['end', promTime(end)], ['step', String(stepSeconds)]];
    return this.#call('/api/v1/query_range', p, o, expr);
  }

  series(match: string[], start?: Time, end?: Time, o?: CallOptions): Promise<PrometheusResult<Record<string, string>[]>> {
    const p: [string, string][] = match.map((m) => ['match[]', m]);
    if (start !== undefined) p.push(['start', promTime(start)]);
    if (end !== undefined) p.push(['end', promTime(end)]);
    return this.#call('/api/v1/series', p, o, match.join(', '));
  }

  labels(o?: CallOptions): Promise<PrometheusResult<string[]>> {
    return this.#call('/api/v1/labels', [], o);
  }

  async alerts(o?: CallOptions): Promise<PrometheusResult<Alert[]>> {
    const r = await this.#call<{ alerts?: Alert[] }>('/api/v1/alerts', [], o);
    return { ...r, data: r.data.alerts ?? [] };
  }

  async rules(type?: 'alert' | 'record', o?: CallOptions): Promise<PrometheusResult<RuleGroup[]>> {
    const r = await this.#call<{ groups?: RuleGroup[] }>('/api/v1/rules', type ? [['type', type]] : [], o);
    return { ...r, data: r.data.groups ?? [] };
  }

  async targets(state?: 'active' | 'dropped' | 'any', o?: CallOptions): Promise<PrometheusResult<TargetsData>> {
    const r = await this.#call<Partial<TargetsData>>('/api/v1/targets', state ? [['state', state]] : [], o);
    return { ...r, data: { activeTargets: r.data.activeTargets ?? [], droppedTargets: r.data.droppedTargets ?? [] } };
  }

  buildinfo(o?: CallOptions): Promise<PrometheusResult<BuildInfo>> {
    return this.#call('/api/v1/status/buildinfo', [], o);
  }

  #redact(s: string): string {
    let out = s;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  async #call<T>(path: string, params: [string, string][], o: CallOptions | undefined, expr?: string): Promise<PrometheusResult<T>> {
    const url = this.baseUrl + path;
    const form = new URLSearchParams(params).toString();
    const post = form.length > MAX_GET_QUERY;
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'labwatch' };
    if (this.#auth) headers.authorization = this.#auth;
    if (post) headers['content-type'] = 'application/x-www-form-urlencoded';
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = o?.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
    const fail = (kind: PrometheusErrorKind, msg: string, extra: Partial<PrometheusError['details']> = {}, cause?: unknown) =>
      new PrometheusError(kind, this.#redact(msg), { url, ...(expr !== undefined ? { expr } : {}), ...extra }, { cause });

    let status = 0;
    let contentType = '';
    let body: string;
    try {
      const res = await fetch(post || !form ? url : `${url}?${form}`, { method: post ? 'POST' : 'GET', headers, signal, ...(post ? { body: form } : {}), redirect: 'follow' });
      status = res.status;
      contentType = res.headers.get('content-type') ?? '';
      body = await this.#readCapped(res, url, fail);
    } catch (e) {
      if (e instanceof PrometheusError) throw e;
      if (timeout.aborted)
        throw fail('timeout', `Prometheus at ${url} did not answer within ${this.#timeoutMs / 1000} s: is it overloaded or is the query too heavy? (raise prometheus.timeout, or narrow the query)`, {}, e);
      if (o?.signal?.aborted) {
        const reason = o.signal.reason as { name?: string } | undefined;
        if (reason?.name === 'TimeoutError') throw fail('timeout', `the time limit for this call ran out while waiting for Prometheus at ${url}`, {}, e);
        throw o.signal.reason ?? e;
      }
      throw fail('unreachable', `cannot reach Prometheus at ${url}: ${describeNetError(e)}; check that Prometheus is running and that prometheus.url is right`, {}, e);
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      const snippet = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);
      const hint =
        status === 401 || status === 403
          ? 'check prometheus.bearer_token_file / basic_auth'
          : status === 404
            ? 'check that prometheus.url is the Prometheus base URL (with any --web.route-prefix)'
            : status >= 500
              ? 'a proxy in front of Prometheus may be failing, or Prometheus is down behind it'
              : 'check that prometheus.url points at Prometheus itself, not at a proxy page or Grafana';
      throw fail('bad_response', `Prometheus at ${url} answered HTTP ${status} ${contentType || 'without a content type'}, not Prometheus JSON${snippet ? ` ("${snippet}")` : ''}: ${hint}`, { status });
    }
    const env = json as { status?: string; data?: unknown; errorType?: string; error?: string; warnings?: unknown; infos?: unknown };
    if (env?.status === 'error') {
      const what = expr !== undefined ? `the query \`${expr}\`` : `the request ${path}`;
      throw fail('query', `prometheus rejected ${what}: ${env.errorType ?? 'error'}: ${env.error ?? '(no message)'}`, {
        status,
        ...(env.errorType ? { errorType: env.errorType } : {}),
        ...(env.error ? { promError: env.error } : {}),
      });
    }
    if (env?.status !== 'success' || !('data' in env) || status < 200 || status >= 300) {
      const hint = status === 401 || status === 403 ? ': check prometheus.bearer_token_file / basic_auth' : '';
      throw fail('bad_response', `Prometheus at ${url} answered HTTP ${status} with JSON that is not a Prometheus API response (status ${JSON.stringify(env?.status ?? null)})${hint}`, { status });
    }
    const warnings = [...strings(env.warnings), ...strings(env.infos)];
    return { data: env.data as T, warnings };
  }

  async #readCapped(res: Response, url: string, fail: (k: PrometheusErrorKind, m: string, x?: Partial<PrometheusError['details']>) => PrometheusError): Promise<string> {
    const tooBig = () => fail('bad_response', `the response from ${url} is larger than ${sizeText(this.#maxBody)} and was not read: narrow the query (label matchers, topk, a shorter range or a larger step)`, { status: res.status });
    const declared = Number(res.headers.get('content-length'));
    if (declared > this.#maxBody) {
      await res.body?.cancel().catch(() => undefined);
      throw tooBig();
    }
    if (!res.body) return '';
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > this.#maxBody) {
        await res.body.cancel().catch(() => undefined);
        throw tooBig();
      }
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function describeNetError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `the connection was dropped (${code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting timed out (${code})`;
    default:
      if (code && /CERT|SSL|TLS/i.test(code)) return `TLS failed: ${cause?.message ?? code}`;
      return cause?.message ?? (e as Error).message ?? String(e);
  }
}
