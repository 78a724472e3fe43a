/**
 * The page's calls to /api/*: relative URLs (labwatch may sit under a reverse proxy's path), the
 * session cookie, and the CSRF token on every POST. Errors carry the server's words and hint.
 */
let csrf = '';

/** Called with SessionInfo.csrf whenever the session is (re)read. */
export function setCsrf(token: string | undefined): void {
  csrf = token ?? '';
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

async function request(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: 'same-origin', ...init });
  } catch (e) {
    throw new ApiError(`labwatch did not answer ${init.method ?? 'GET'} ${path} (${(e as Error).message})`, 0, 'check that the daemon is running, then retry');
  }
}

async function answer<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  let body: { error?: string; hint?: string } & Record<string, unknown> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: text.slice(0, 300) };
  }
  if (!res.ok) throw new ApiError(body.error || `${what} answered HTTP ${res.status}`, res.status, body.hint);
  return body as T;
}

const early = new Map<string, Promise<unknown>>();

/** Starts a GET before the view that needs it exists (at start, in parallel with the session); `get` takes it over once. */
export function prefetch(path: string): void {
  const p = fetchJson(path);
  p.catch(() => undefined); // a refusal (not logged in yet) is asked again by `get`
  early.set(path, p);
}

async function fetchJson<T>(path: string): Promise<T> {
  return answer<T>(await request(path, { headers: { Accept: 'application/json' } }), `GET ${path}`);
}

export async function get<T>(path: string): Promise<T> {
  const started = early.get(path);
  if (started) {
    early.delete(path);
    try {
      return (await started) as T;
    } catch {
      // asked again below, now that the session exists
    }
  }
  return fetchJson<T>(path);
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return answer<T>(await postRaw(path, body, 'application/json'), `POST ${path}`);
}

/** A POST whose answer is read by the caller (the ask stream). Fails on an error status, with its words. */
export async function postRaw(path: string, body: unknown, accept: string, signal?: AbortSignal): Promise<Response> {
  const res = await request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: accept, 'X-CSRF-Token': csrf },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  if (!res.ok) await answer(res, `POST ${path}`);
  return res;
}

/** The message to show for a failed call: what failed, and what to do when the server said. */
export function problem(e: unknown): string {
  if (e instanceof ApiError) return e.hint ? `${e.message}. ${e.hint}` : e.message;
  return (e as Error)?.message ?? String(e);
}
