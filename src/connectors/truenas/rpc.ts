/**
 * One persistent JSON-RPC 2.0 connection to a TrueNAS SCALE API (wss://<nas>/api/current), as
 * truenas/middleware's jsonrpc.rst describes it: one request per frame (no batches, which the
 * server rejects), `params` always an array, datetimes as `{"$date": <epoch ms>}`.
 *
 * It connects on the first call and logs in before anything else is sent; every call has a
 * timeout; a dropped connection fails the calls waiting on it with one clear error, and the next
 * call reconnects. A connect or login that failed is not retried before a backoff (1 s doubling
 * to 60 s), so a wrong key is not hammered against the NAS. The certificate is checked by the
 * agent (../api-tls.ts) before the key is sent; the key never appears in a message.
 */
import type { Agent } from 'node:https';
import WebSocket from 'ws';
import { TlsTrustError } from '../api-tls.ts';

export type RpcErrorKind = 'unreachable' | 'tls' | 'auth' | 'timeout' | 'dropped' | 'denied' | 'busy' | 'call' | 'bad_response';

/** A failed call: `kind` says what a person can do about it, the message says which call and how. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly kind: RpcErrorKind,
    message: string,
    readonly method: string,
    /** the middleware's errname (EACCES, ENOENT, …) for a method call error */
    readonly errname?: string,
  ) {
    super(message);
  }
}

export interface RpcOptions {
  url: string;
  username: string;
  apiKey: string;
  agent: Agent;
  timeoutMs: number;
  /** where the key comes from, for a refused login: "truenas.api_key_file /etc/… (or LABWATCH_TRUENAS_API_KEY)" */
  keySource: string;
  /** told every method sent (the calls-per-poll count in tests) */
  onCall?: (method: string) => void;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const MAX_PAYLOAD = 64 * 1024 * 1024;
const BACKOFF_MS = [1_000, 2_000, 5_000, 15_000, 30_000, 60_000];

/** How deep an answer may nest: TrueNAS's deepest (a pool's vdev tree) is under 10 levels. */
const MAX_DEPTH = 64;

/**
 * `{"$date": ms}` → ISO 8601, everywhere in `method`'s answer (the rest of TrueNAS's extended JSON is
 * left as is; a `$date` outside what a Date holds becomes null, an unknown time). Keys are copied as
 * own properties, so a `"__proto__"` key in an answer stays data and never becomes a prototype. An
 * answer nested more than MAX_DEPTH levels is refused with a bad_response RpcError: it runs inside
 * the WebSocket's message handler, where a stack overflow would escape every caller.
 */
export function decodeDates(v: unknown, method: string, depth = 0): unknown {
  if (depth > MAX_DEPTH)
    throw new RpcError('bad_response', `TrueNAS ${method} answered JSON nested more than ${MAX_DEPTH} levels deep; labwatch does not read it (please report it with the TrueNAS version)`, method);
  if (Array.isArray(v)) return v.map((x) => decodeDates(x, method, depth + 1));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$date' && typeof o.$date === 'number') {
      const when = new Date(o.$date);
      return Number.isNaN(when.getTime()) ? null : when.toISOString();
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) Object.defineProperty(out, k, { value: decodeDates(o[k], method, depth + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

export class TrueNasRpc {
  readonly #o: RpcOptions;
  #ws: WebSocket | undefined;
  #opening: Promise<WebSocket> | undefined;
  readonly #pending = new Map<number, Pending>();
  #id = 0;
  #failures = 0;
  #retryAt = 0;
  #lastError: RpcError | undefined;
  #generation = 0;

  constructor(o: RpcOptions) {
    this.#o = o;
  }

  get url(): string {
    return this.#o.url;
  }

  /** counts the connections made: what was learnt on one (the method list) is read again on the next */
  get generation(): number {
    return this.#generation;
  }

  /** Calls `method` with `params` (an array, as the server requires) on the open connection, opening it first when needed. */
  async call(method: string, params: unknown[] = [], signal?: AbortSignal): Promise<unknown> {
    signal?.throwIfAborted();
    const ws = await this.#connection();
    return this.#send(ws, method, params, signal);
  }

  /** Closes the connection; the next call opens a new one. */
  close(): void {
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  #connection(): Promise<WebSocket> {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) return Promise.resolve(this.#ws);
    if (this.#opening) return this.#opening;
    const wait = this.#retryAt - Date.now();
    if (wait > 0 && this.#lastError) {
      const e = this.#lastError;
      return Promise.reject(new RpcError(e.kind, `${e.message} (next attempt in ${Math.ceil(wait / 1000)} s)`, e.method, e.errname));
    }
    this.#opening = this.#open().then(
      (ws) => {
        this.#failures = 0;
        this.#lastError = undefined;
        this.#opening = undefined;
        return ws;
      },
      (e: unknown) => {
        const err = e instanceof RpcError ? e : new RpcError('unreachable', this.#scrub(`cannot reach TrueNAS ${this.#o.url}: ${(e as Error).message}`), 'connect');
        this.#retryAt = Date.now() + BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)]!;
        this.#failures++;
        this.#lastError = err;
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  async #open(): Promise<WebSocket> {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.#o.url, { agent: this.#o.agent, handshakeTimeout: this.#o.timeoutMs, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
      ws.once('open', () => {
        ws.off('error', fail);
        resolve(ws);
      });
      const fail = (e: Error) => {
        ws.terminate();
        if (e instanceof TlsTrustError) reject(new RpcError('tls', `TrueNAS ${this.#o.url}: ${e.message}`, 'connect'));
        else reject(new RpcError('unreachable', this.#scrub(`cannot reach TrueNAS ${this.#o.url}: ${reason(e)}; check truenas.url and that the NAS is up`), 'connect'));
      };
      ws.once('error', fail);
    });
    ws.on('message', (data) => this.#receive(data));
    ws.on('error', () => undefined); // 'close' follows and fails what waits
    ws.once('close', (code, why) => this.#dropped(ws, code, why.toString()));
    try {
      await this.#login(ws);
      this.#generation++;
    } catch (e) {
      ws.terminate();
      throw e;
    }
    // handed out only once logged in: a call made meanwhile waits on #opening, never goes out unauthenticated
    this.#ws = ws;
    return ws;
  }

  /** auth.login_ex with the API key; auth.login_with_api_key on a release without login_ex. */
  async #login(ws: WebSocket): Promise<void> {
    const { username, apiKey, keySource, url } = this.#o;
    const refused = (why: string) =>
      new RpcError(
        'auth',
        `TrueNAS ${url} refused the API key for user ${username} (${why}); check truenas.username and the key in ${keySource}: the key must belong to that user (Credentials → Users → ${username} → API keys), and keys made before 25.04 for no user are revoked on upgrade`,
        'auth.login_ex',
      );
    let answer: unknown;
    try {
      answer = await this.#send(ws, 'auth.login_ex', [{ mechanism: 'API_KEY_PLAIN', username, api_key: apiKey }]);
    } catch (e) {
      if (!(e instanceof RpcError && e.kind === 'call' && /-32601|method not found|ENOMETHOD/i.test(e.message))) throw e;
      const ok = await this.#send(ws, 'auth.login_with_api_key', [apiKey]);
      if (ok !== true) throw refused('auth.login_with_api_key answered false');
      return;
    }
    const type = (answer as { response_type?: unknown } | null)?.response_type;
    if (type === 'SUCCESS') return;
    if (type === 'EXPIRED') throw refused('the key has expired; make a new one');
    if (type === 'OTP_REQUIRED') throw refused('the account asks for a one-time password: an API key account must not have two-factor authentication');
    throw refused(typeof type === 'string' ? type : 'an answer without response_type');
  }

  #send(ws: WebSocket, method: string, params: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (!Array.isArray(params)) throw new Error(`TrueNAS ${method}: params must be an array`);
    const id = ++this.#id;
    this.#o.onCall?.(method);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#pending.delete(id);
        signal?.removeEventListener('abort', abort);
        if (this.#pending.size === 0) idle(ws, true);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RpcError('timeout', `TrueNAS ${method} did not answer within ${this.#o.timeoutMs / 1000} s; raise truenas.timeout if the NAS is busy (a scrub or resilver slows it)`, method));
      }, this.#o.timeoutMs);
      const abort = () => {
        done();
        reject(signal!.reason instanceof Error ? signal!.reason : new Error(`TrueNAS ${method}: aborted`));
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.#pending.set(id, {
        method,
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer,
      });
      idle(ws, false);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (e) => {
        if (e) this.#pending.get(id)?.reject(new RpcError('dropped', `the connection to TrueNAS ${this.#o.url} closed before ${method} was sent (${e.message}); the next poll reconnects`, method));
      });
    });
  }

  #receive(data: WebSocket.RawData): void {
    let msg: { id?: unknown; result?: unknown; error?: { code?: number; message?: string; data?: { errname?: string; reason?: string } } };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return; // not JSON: nothing waits on it
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') return; // a notification (collection_update)
    const p = this.#pending.get(msg.id);
    if (!p) return; // answered after its timeout
    if (!msg.error) {
      let result: unknown;
      try {
        result = decodeDates(msg.result, p.method);
      } catch (e) {
        return p.reject(e as RpcError);
      }
      return p.resolve(result);
    }
    const { code, message, data: d } = msg.error;
    const why = d?.reason ?? message ?? 'no reason given';
    if (d?.errname === 'EACCES' || d?.errname === 'EPERM')
      return p.reject(new RpcError('denied', `TrueNAS refused ${p.method} to ${this.#o.username} (${why}); put the user in a group whose privilege has the READONLY_ADMIN role (Credentials → Groups → Privileges)`, p.method, d.errname));
    if (code === -32000) return p.reject(new RpcError('busy', `TrueNAS ${p.method}: too many concurrent calls (${why}); the next poll tries again`, p.method));
    p.reject(new RpcError('call', this.#scrub(`TrueNAS ${p.method} failed: ${why}${d?.errname ? ` (${d.errname})` : ''} [code ${code ?? '?'}]`), p.method, d?.errname));
  }

  #dropped(ws: WebSocket, code: number, why: string): void {
    if (this.#ws === ws) this.#ws = undefined;
    const waiting = [...this.#pending.values()];
    for (const p of waiting)
      p.reject(new RpcError('dropped', `the connection to TrueNAS ${this.#o.url} dropped during ${p.method} (WebSocket close ${code}${why ? `: ${why}` : ''}); the next poll reconnects`, p.method));
  }

  #scrub(s: string): string {
    return this.#o.apiKey ? s.split(this.#o.apiKey).join('<api key>') : s;
  }
}

/**
 * An idle connection must not keep a process alive (`labwatch ask` ends when its answer is out; the
 * daemon has its own reasons to live): the socket is referenced only while a call waits. `ws`
 * keeps its socket in `_socket`.
 */
function idle(ws: WebSocket, yes: boolean): void {
  const socket = (ws as unknown as { _socket?: { ref(): void; unref(): void } })._socket;
  if (yes) socket?.unref();
  else socket?.ref();
}

function reason(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}
