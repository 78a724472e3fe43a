/**
 * HTTP for the channels that talk to a server (ntfy, Gotify, Apprise, a webhook): one request
 * with a timeout, and one reading of the answer, written once. No answer at all, 5xx, 429 and
 * 408 are worth retrying (the queue's backoff paces the retries); any other 4xx is final, as a
 * retry would send the same request to the same refusal. The server's own words go into the error.
 */
import { NotifyError } from '../notifier.ts';

/** How a channel names itself in errors: its config key and what sits at the other end. */
export interface Peer {
  /** the channel: "ntfy" */
  channel: string;
  /** what answers there, for "is the ntfy server up?": "the ntfy server" */
  server: string;
  /** the config key holding the URL, for "check notify.ntfy.url" */
  urlKey: string;
  /** where the credentials come from, for "check notify.ntfy.token_file"; absent when none are sent */
  credentials?: string;
}

export interface Answer {
  status: number;
  ok: boolean;
  text: string;
  headers: Headers;
}

/** Whether an HTTP status is worth another try. */
function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** Why a request did not get an answer, in words: refused, TLS, DNS, timeout. */
function unreachable(peer: Peer, url: string, e: unknown): string {
  const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
  if (code === 'ECONNREFUSED') return `${url}: connection refused; is ${peer.server} up, and ${peer.urlKey} right?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: host name does not resolve (${code}); check ${peer.urlKey}`;
  if (code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') return `${url}: no answer in time; is the server reachable from here?`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) return `${url}: TLS certificate problem (${code}); fix the certificate or use the server's trusted name`;
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return `cannot reach ${url} (${cause ?? code})`;
}

/** One request; no answer at all becomes a retryable NotifyError that says why. */
export async function request(peer: Peer, url: string, init: RequestInit & { timeoutMs: number }): Promise<Answer> {
  const { timeoutMs, ...rest } = init;
  let res: Response;
  try {
    res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new NotifyError(peer.channel, unreachable(peer, url, e), true);
  }
  return { status: res.status, ok: res.ok, headers: res.headers, text: await res.text().catch(() => '') };
}

/**
 * What the server said, in one line: the message of a JSON error body (ntfy's `error`, Gotify's
 * `error` and `errorDescription`, a `message` or `detail`), else the text, cut to 300 characters.
 */
function detailOf(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const words = [j.error, j.errorDescription ?? j.message ?? j.detail].filter((w): w is string => typeof w === 'string' && w.length > 0);
    if (words.length) return words.join(': ').slice(0, 300);
  } catch {
    /* not JSON: the text itself */
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300) || '(no body)';
}

/** The error for an answer that was not a success: credentials, rate limit, or what the server said; retryable as `retryable()` says. */
export function httpError(peer: Peer, url: string, a: { status: number; text: string }): NotifyError {
  const detail = detailOf(a.text);
  if (a.status === 401 || a.status === 403)
    return new NotifyError(peer.channel, `${url} refused our credentials (${a.status}: ${detail})${peer.credentials ? `; check ${peer.credentials}` : ''}`, false);
  if (a.status === 429) return new NotifyError(peer.channel, `${url} is rate-limiting us (429: ${detail}); backing off`, true);
  if (a.status === 404) return new NotifyError(peer.channel, `${url} answered 404 (${detail}); check ${peer.urlKey}`, false);
  return new NotifyError(peer.channel, `${url} answered ${a.status}: ${detail}`, retryable(a.status));
}

/** A URL without trailing slashes, to append paths to. */
export const base = (url: string): string => url.replace(/\/+$/, '');
