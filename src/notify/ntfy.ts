/**
 * ntfy over HTTP: one POST per report to <url>/<topic>, with Title, Priority, Tags and Click
 * headers and a plain-text body cut to ntfy's 4,096-byte limit. 429 and 5xx are retried (ntfy
 * sends no Retry-After, so the queue's backoff paces us); 400/401/403 are final.
 */
import { NotifyError, type Message, type Notifier } from './notifier.ts';

export interface NtfySettings {
  url: string;
  topic: string;
  token?: string;
  timeoutMs?: number;
}

/** HTTP header values must be Latin-1; anything else is sent RFC 2047-encoded, which ntfy decodes. */
export function headerValue(s: string): string {
  const clean = s.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** Why a request did not get an answer, in words: refused, TLS, DNS, timeout. */
function unreachable(url: string, e: unknown): string {
  const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
  if (code === 'ECONNREFUSED') return `${url}: connection refused; is the ntfy server up, and notify.ntfy.url right?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: host name does not resolve (${code}); check notify.ntfy.url`;
  if (code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') return `${url}: no answer in time; is the server reachable from here?`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) return `${url}: TLS certificate problem (${code}); fix the certificate or use the server's trusted name`;
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  return `cannot reach ${url} (${cause ?? code})`;
}

export class NtfyNotifier implements Notifier {
  readonly channel = 'ntfy';
  readonly #endpoint: string;

  constructor(private readonly settings: NtfySettings) {
    this.#endpoint = `${settings.url.replace(/\/+$/, '')}/${settings.topic}`;
  }

  #auth(): Record<string, string> {
    return this.settings.token ? { Authorization: `Bearer ${this.settings.token}` } : {};
  }

  async send(m: Message): Promise<string | undefined> {
    const push = m.push;
    let res: Response;
    try {
      res = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          ...this.#auth(),
          'Content-Type': 'text/plain; charset=utf-8',
          Title: headerValue(push.title),
          Priority: String(push.priority),
          Tags: headerValue(push.tags.join(',')),
          ...(push.click ? { Click: push.click } : {}),
          ...(push.markdown ? { Markdown: 'yes' } : {}),
          // The action header's own format; labels and URLs cannot contain ';' or ',' unescaped.
          ...(push.actions?.length ? { Actions: headerValue(push.actions.map((a) => `view, ${a.label.replace(/[;,]/g, ' ')}, ${a.url.replace(/;/g, '%3B')}`).join('; ')) } : {}),
        },
        body: push.body,
        signal: AbortSignal.timeout(this.settings.timeoutMs ?? 15_000),
      });
    } catch (e) {
      throw new NotifyError(this.channel, unreachable(this.#endpoint, e), true);
    }
    const body = await res.text().catch(() => '');
    if (res.ok) {
      try {
        return (JSON.parse(body) as { id?: string }).id;
      } catch {
        return undefined;
      }
    }
    let detail = body.trim().slice(0, 300);
    try {
      detail = (JSON.parse(body) as { error?: string }).error ?? detail;
    } catch {
      /* not JSON: keep the text */
    }
    if (res.status === 401 || res.status === 403)
      throw new NotifyError(this.channel, `${this.#endpoint} refused our credentials (${res.status}: ${detail}); check notify.ntfy.token_file`, false);
    if (res.status === 429)
      throw new NotifyError(this.channel, `${this.#endpoint} is rate-limiting us (429: ${detail}); backing off`, true);
    throw new NotifyError(this.channel, `${this.#endpoint} answered ${res.status}: ${detail}`, res.status >= 500);
  }

  async probe(): Promise<void> {
    const base = this.settings.url.replace(/\/+$/, '');
    let res: Response;
    try {
      // /v1/health needs no auth; the topic's /auth endpoint checks our token can publish.
      res = await fetch(`${this.#endpoint}/auth`, { headers: this.#auth(), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new NotifyError(this.channel, unreachable(base, e), true);
    }
    if (res.status === 401 || res.status === 403)
      throw new NotifyError(this.channel, `${base} refused our credentials for topic ${this.settings.topic} (${res.status}); check notify.ntfy.token_file`, false);
    if (!res.ok && res.status !== 404) throw new NotifyError(this.channel, `${base} answered ${res.status}`, res.status >= 500);
  }

  async close(): Promise<void> {}
}
