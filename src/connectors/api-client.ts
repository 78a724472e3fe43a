/**
 * A read-only JSON client for a lab system's HTTPS API (Proxmox VE, Proxmox Backup Server, …).
 * It has one verb, GET: labwatch never changes a lab system, and a client that cannot say POST
 * cannot be talked into it. Every call has a timeout and a capped body; several base URLs are
 * tried in order (a cluster node may be down) and the one that answered is kept; every failure
 * is an ApiError saying which endpoint failed, how, and what to change. The token never appears
 * in a message.
 */
import { request, type Agent } from 'node:https';
import * as z from 'zod';
import { failed, type ToolResult } from '../tools/types.ts';
import { issueMessage, issuePath } from '../util/zod.ts';
import { TlsTrustError } from './api-tls.ts';

export type ApiErrorKind = 'unreachable' | 'timeout' | 'tls' | 'auth' | 'forbidden' | 'http' | 'bad_response';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    /** the endpoint as asked for, without the base URL: /nodes/pve1/status */
    readonly endpoint: string,
    readonly status?: number,
    /** the words of the HTTP status line ("Permission check failed (/, Sys.Audit)"), where Proxmox puts the reason */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** what people call the system: "Proxmox VE" */
  system: string;
  /** the config key, for hints: "proxmox" */
  block: string;
  /** base URLs tried in order: https://pve1.lab:8006 */
  urls: string[];
  /** path every endpoint sits under: /api2/json */
  prefix: string;
  /** the Authorization header value */
  authorization: string;
  /** the secret inside it, kept out of messages */
  secret: string;
  agent: Agent;
  timeoutMs: number;
  /** what a 401 means for this system, and a 403's missing privilege: "the token needs PVEAuditor on /" */
  hints: { auth: string; forbidden: string };
  /** told the method and path of every call (the calls-per-poll count in tests and metrics) */
  onCall?: (endpoint: string) => void;
  /** how answers are wrapped: Proxmox's `{"data": …}` (the default, unwrapped here) or a bare JSON value (OPNsense) */
  envelope?: 'data' | 'none';
}

const MAX_BODY = 32 * 1024 * 1024;

export class ApiClient {
  readonly #o: ApiClientOptions;
  /** index of the base URL that answered last */
  #current = 0;

  constructor(o: ApiClientOptions) {
    if (o.urls.length === 0) throw new Error(`${o.block}.url: give at least one URL`);
    this.#o = { ...o, urls: o.urls.map((u) => u.replace(/\/+$/, '')) };
  }

  /** The base URL that answered last (for `check` and reports). */
  get baseUrl(): string {
    return this.#o.urls[this.#current]!;
  }

  /**
   * GET `endpoint` (with query) and return the `data` of the `{"data": …}` envelope (or the whole
   * answer, with `envelope: 'none'`). A node that
   * cannot be reached or times out is skipped for the next URL; an answer (even 4xx/5xx) is final.
   */
  async get<T = unknown>(endpoint: string, query: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
    const qs = new URLSearchParams(Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const path = `${this.#o.prefix}${endpoint}${qs ? `?${qs}` : ''}`;
    this.#o.onCall?.(`${endpoint}${qs ? `?${qs}` : ''}`);
    const n = this.#o.urls.length;
    let last: ApiError | undefined;
    for (let i = 0; i < n; i++) {
      const at = (this.#current + i) % n;
      try {
        const body = await this.#fetch(this.#o.urls[at]!, path, endpoint, signal);
        this.#current = at;
        return body as T;
      } catch (e) {
        if (!(e instanceof ApiError) || !['unreachable', 'timeout'].includes(e.kind) || signal?.aborted) throw e;
        last = e;
      }
    }
    throw n > 1 ? new ApiError(last!.kind, `no ${this.#o.system} URL answered (${this.#o.urls.join(', ')}); last: ${last!.message}`, endpoint) : last!;
  }

  #fetch(base: string, path: string, endpoint: string, signal?: AbortSignal): Promise<unknown> {
    const o = this.#o;
    const url = new URL(base + path);
    const where = `${o.system} ${base}${endpoint}`;
    const redact = (s: string) => (o.secret.length >= 3 ? s.split(o.secret).join('***') : s);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (e: ApiError | null, v?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (e) reject(new ApiError(e.kind, redact(e.message), e.endpoint, e.status, e.reason));
        else resolve(v);
      };
      const req = request(url, { method: 'GET', agent: o.agent, headers: { authorization: o.authorization, accept: 'application/json', 'user-agent': 'labwatch' } }, (res) => {
        const status = res.statusCode ?? 0;
        // Proxmox puts the reason in the status line ("403 Permission check failed (/, Sys.Audit)")
        const reason = res.statusMessage ?? '';
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            res.destroy();
            finish(new ApiError('bad_response', `${where} sent more than ${MAX_BODY / 1024 / 1024} MiB; not read`, endpoint, status));
          } else chunks.push(c);
        });
        res.on('error', (e) => finish(new ApiError('unreachable', `${where}: the connection broke while reading (${e.message})`, endpoint, status)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (status === 401)
            return finish(new ApiError('auth', `${where} refused the token (HTTP 401 ${reason}): ${o.hints.auth}`, endpoint, status));
          if (status === 403)
            return finish(new ApiError('forbidden', `${where} is not allowed for this token (HTTP 403 ${reason}): ${o.hints.forbidden}`, endpoint, status, reason));
          if (status < 200 || status >= 300) {
            const detail = errorsOf(text);
            return finish(new ApiError('http', `${where} answered HTTP ${status} ${reason}${detail ? ` (${detail})` : ''}`, endpoint, status));
          }
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            return finish(new ApiError('bad_response', `${where} answered HTTP ${status} with a body that is not JSON ("${text.slice(0, 120).replace(/\s+/g, ' ')}"): is ${o.block}.url the API of ${o.system}, not a proxy page?`, endpoint, status));
          }
          if (o.envelope === 'none') return finish(null, json);
          if (!json || typeof json !== 'object' || !('data' in json))
            return finish(new ApiError('bad_response', `${where} answered JSON without the {"data": …} envelope: is ${o.block}.url the API of ${o.system}?`, endpoint, status));
          finish(null, (json as { data: unknown }).data);
        });
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish(new ApiError('timeout', `${where} did not answer within ${o.timeoutMs / 1000} s: is the node overloaded or down? (raise ${o.block}.timeout if it is only slow)`, endpoint));
      }, o.timeoutMs);
      const onAbort = () => {
        req.destroy();
        finish(new ApiError('timeout', `${where}: the collector's time ran out while waiting`, endpoint));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof TlsTrustError) return finish(new ApiError('tls', `${o.system} ${base}: ${e.message}`, endpoint));
        finish(new ApiError('unreachable', `cannot reach ${o.system} at ${base} (${netWords(e)}); check that it runs and that ${o.block}.url is right`, endpoint));
      });
      req.end();
    });
  }
}

/** Proxmox's `{"errors": {"param": "message"}}` in one line. */
function errorsOf(text: string): string {
  try {
    const j = JSON.parse(text) as { errors?: Record<string, unknown>; message?: unknown };
    if (j.errors && typeof j.errors === 'object') return Object.entries(j.errors).map(([k, v]) => `${k}: ${String(v).trim()}`).join('; ');
    if (typeof j.message === 'string') return j.message.trim();
  } catch {
    /* not JSON: the status line says enough */
  }
  return '';
}

function netWords(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens on that port';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${e.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${e.code})`;
    case 'ECONNRESET':
      return 'the connection was dropped (ECONNRESET)';
    default:
      return e.code ? `${e.code}: ${e.message}` : e.message;
  }
}

/** A number as lab APIs send it: sometimes a JSON number, sometimes a numeric string ("1500", "0.12"). */
export const looseNumber = z.union([z.number(), z.string().trim().regex(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i).transform(Number)]);

/** A value parsed against its schema, or a bad_response ApiError naming the endpoint and the first problem. */
export function parseAnswer<T>(schema: z.ZodType<T>, value: unknown, endpoint: string, system: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issuePath(issue.path);
  throw new ApiError('bad_response', `${system} ${endpoint} answered in a shape labwatch does not know (${at || 'the answer'}: ${issueMessage(issue)}); please report it with the ${system} version`, endpoint);
}

/** A connector's `ready`: null when `read` answers, else what went wrong (the tools are then not offered). */
export function readyWhen<C>(read: (ctx: C, signal: AbortSignal) => Promise<unknown>): (ctx: C, signal: AbortSignal) => Promise<string | null> {
  return async (ctx, signal) => {
    try {
      await read(ctx, signal);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

/** A tool's run whose ApiError (already saying what failed and what to change) is its answer, not a crash. */
export async function apiGuarded(run: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ApiError) return failed(e.message);
    throw e;
  }
}
