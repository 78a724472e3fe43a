/**
 * ntfy over HTTP: one POST per report to <url>/<topic>, with Title, Priority, Tags, Click and
 * Actions headers and a body cut to ntfy's 4,096-byte limit. Alert text has no length limit, but
 * headers do (nginx in front of ntfy refuses more than 8 KB): all headers together stay within
 * 4 KB, and what does not fit moves into the body (the full title at the top, links at the end).
 * A 431/413 (headers too large for this server) is answered once with a minimal request. 429 and
 * 5xx are retried (ntfy sends no Retry-After, so the queue's backoff paces us); 400/401/403 are
 * final.
 */
import { NotifyError, type Message, type Notifier } from './notifier.ts';
import { NTFY_BODY_LIMIT_BYTES, escapeMarkdown, truncateUtf8, type RenderedPush } from './render.ts';

/** All headers labwatch sends, together (names, values, ": " and CRLF): half of nginx's 8 KB buffer. */
export const NTFY_HEADER_BUDGET_BYTES = 4096;
/** The title's share of it, encoded; a cut title is given in full at the top of the body. */
const TITLE_BYTES = 512;
/** The title of the minimal request sent after a 431/413. */
const SHORT_TITLE_BYTES = 96;
const TAGS_BYTES = 256;
/** A longer URL is no header (Click, an action) but a line of the body. */
const URL_BYTES = 1536;
/** What moves into the body (the full title, links) takes at most half of it; the report keeps the rest. */
const MOVED_BYTES = 2048;

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

const lineBytes = (name: string, value: string) => Buffer.byteLength(`${name}: ${value}\r\n`, 'latin1');

/** `s` as a header value of at most `maxBytes` (encoded), cut on a character with "…" when longer. */
export function fitHeader(s: string, maxBytes: number): { value: string; cut: boolean } {
  const whole = headerValue(s);
  if (whole.length <= maxBytes) return { value: whole, cut: false };
  const chars = Array.from(s.replace(/[\r\n]+/g, ' '));
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (headerValue(chars.slice(0, mid).join('') + '…').length <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return { value: headerValue(chars.slice(0, lo).join('') + '…'), cut: true };
}

/** ntfy's action header: labels and URLs cannot contain ';' or ',' unescaped. */
const actionOf = (a: { label: string; url: string }) => `view, ${a.label.replace(/[;,]/g, ' ')}, ${a.url.replace(/;/g, '%3B')}`;

/**
 * The request for one push: headers within NTFY_HEADER_BUDGET_BYTES and a body within ntfy's
 * limit. A title that does not fit is cut with "…" and opens the body in full; a Click or action
 * URL that does not fit becomes a line at the end of the body; tags that do not fit are left out
 * (they are decoration: the alert's name is in the title). `minimal` (after a 431/413) sends only
 * a short title, the priority and the markdown flag, and moves every link into the body.
 */
export function ntfyRequest(push: RenderedPush, fixed: Record<string, string>, minimal = false): { headers: Record<string, string>; body: string } {
  const md = push.markdown ? escapeMarkdown : (s: string) => s;
  const headers: Record<string, string> = { ...fixed, Priority: String(push.priority), ...(push.markdown ? { Markdown: 'yes' } : {}) };
  const title = fitHeader(push.title, minimal ? SHORT_TITLE_BYTES : TITLE_BYTES);
  headers.Title = title.value;
  let used = Object.entries(headers).reduce((n, [k, v]) => n + lineBytes(k, v), 0);
  const add = (name: string, value: string): boolean => {
    if (used + lineBytes(name, value) > NTFY_HEADER_BUDGET_BYTES) return false;
    headers[name] = value;
    used += lineBytes(name, value);
    return true;
  };
  const moved: { label: string; url: string }[] = [];
  const sent = new Set<string>();
  if (!minimal && push.tags.length) {
    const kept: string[] = [];
    for (const t of push.tags) if (headerValue([...kept, t].join(',')).length <= TAGS_BYTES) kept.push(t);
    if (kept.length) add('Tags', headerValue(kept.join(',')));
  }
  if (push.click) {
    const v = headerValue(push.click);
    if (!minimal && v.length <= URL_BYTES && add('Click', v)) sent.add(push.click);
  }
  const actions: string[] = [];
  for (const a of push.actions ?? []) {
    const v = headerValue([...actions, actionOf(a)].join('; '));
    if (!minimal && headerValue(a.url).length <= URL_BYTES && used + lineBytes('Actions', v) <= NTFY_HEADER_BUDGET_BYTES) {
      actions.push(actionOf(a));
      sent.add(a.url);
    } else moved.push(a);
  }
  if (actions.length) add('Actions', headerValue(actions.join('; ')));
  if (push.click && !sent.has(push.click) && !moved.some((m) => m.url === push.click)) moved.push({ label: 'Link', url: push.click });

  // What moved goes into the body, within its share; a link too long for it says so instead.
  let room = MOVED_BYTES;
  const take = (...choices: string[]): string | undefined => {
    const line = choices.find((l) => Buffer.byteLength(l) + 2 <= room);
    if (line !== undefined) room -= Buffer.byteLength(line) + 2;
    return line;
  };
  const titleLine = (limit: number): string => {
    const t = truncateUtf8(push.title.replace(/\s+/g, ' ').trim(), limit, '…');
    return push.markdown ? `**${md(t)}**` : t;
  };
  const top = title.cut ? take(titleLine(MOVED_BYTES / 2 - 8), titleLine(MOVED_BYTES / 4), titleLine(MOVED_BYTES / 8)) : undefined;
  const link = (url: string) => (push.markdown ? `<${url.replace(/>/g, '%3E').replace(/\s/g, '%20')}>` : url);
  const tail = moved
    .filter((m, i) => moved.findIndex((x) => x.url === m.url) === i)
    .map((m) => take(`${md(m.label)}: ${link(m.url)}`, `${md(m.label)}: a link of ${m.url.length} characters, too long for a push message`))
    .filter((l): l is string => l !== undefined);
  if (!top && !tail.length) return { headers, body: push.body };
  const spare = NTFY_BODY_LIMIT_BYTES - (MOVED_BYTES - room);
  const body = [top, truncateUtf8(push.body, spare), tail.join('\n')].filter(Boolean).join('\n\n');
  return { headers, body };
}

/** The answers that mean "your headers are too large" (nginx says it with a 400). */
function tooLarge(status: number, text: string): boolean {
  return status === 431 || status === 413 || (status === 400 && /header.*too large/i.test(text));
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

  async #post(req: { headers: Record<string, string>; body: string }): Promise<{ res: Response; text: string }> {
    let res: Response;
    try {
      res = await fetch(this.#endpoint, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(this.settings.timeoutMs ?? 15_000) });
    } catch (e) {
      throw new NotifyError(this.channel, unreachable(this.#endpoint, e), true);
    }
    return { res, text: await res.text().catch(() => '') };
  }

  async send(m: Message): Promise<string | undefined> {
    const fixed = { ...this.#auth(), 'Content-Type': 'text/plain; charset=utf-8' };
    let { res, text } = await this.#post(ntfyRequest(m.push, fixed));
    let shrunk = false;
    if (tooLarge(res.status, text)) {
      // A proxy with a small header limit: once more with the least we can send.
      shrunk = true;
      ({ res, text } = await this.#post(ntfyRequest(m.push, fixed, true)));
    }
    if (res.ok) {
      try {
        return (JSON.parse(text) as { id?: string }).id;
      } catch {
        return undefined;
      }
    }
    let detail = text.trim().slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      /* not JSON: keep the text */
    }
    if (shrunk && tooLarge(res.status, text))
      throw new NotifyError(this.channel, `${this.#endpoint} refused even a minimal request as too large (${res.status}: ${detail}); its header limit is tiny: check the reverse proxy in front of ntfy (nginx: large_client_header_buffers)`, false);
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
