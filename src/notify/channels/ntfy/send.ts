/**
 * ntfy over HTTP: one POST per message to <url>/<topic>, with Title, Priority, Tags, Click and
 * Actions headers and a body cut to ntfy's 4,096-byte limit. Alert text has no length limit, but
 * headers do (nginx in front of ntfy refuses more than 8 KB): all headers together stay within
 * 4 KB, and what does not fit moves into the body (the full title at the top, links at the end).
 * A 431/413 (headers too large for this server) is answered once with a minimal request. 429 and
 * 5xx are retried (ntfy sends no Retry-After, so the queue's backoff paces us); 400/401/403 are
 * final.
 */
import { NotifyError, type Message, type Notifier } from '../../notifier.ts';
import { escapeMarkdown, markdownLink, truncateUtf8 } from '../../render.ts';
import { base, httpError, request, type Answer, type Peer } from '../http.ts';
import { NTFY_BODY_LIMIT_BYTES, NTFY_MAX_ACTIONS, pushOf, type PushAction, type RenderedPush } from './push.ts';

/** All headers labwatch sends, together (names, values, ": " and CRLF): half of nginx's 8 KB buffer. */
const NTFY_HEADER_BUDGET_BYTES = 4096;
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
function fitHeader(s: string, maxBytes: number): { value: string; cut: boolean } {
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

/**
 * ntfy's action header: labels and URLs cannot contain ';' or ',' unescaped. An `http` action is
 * POSTed with no body when tapped, and clears the notification once it succeeded.
 */
const actionOf = (a: PushAction) =>
  `${a.action}, ${a.label.replace(/[;,]/g, ' ')}, ${a.url.replace(/;/g, '%3B')}${a.action === 'http' ? ', method=POST, clear=true' : ''}`;

/**
 * The request for one push: headers within NTFY_HEADER_BUDGET_BYTES and a body within ntfy's
 * limit. A title that does not fit is cut with "…" and opens the body in full; a Click or action
 * URL that does not fit becomes a line at the end of the body; tags that do not fit are left out
 * (they are decoration: the alert's name is in the title). `minimal` (after a 431/413) sends only
 * a short title, the priority and the markdown flag, and moves every link into the body.
 */
function ntfyRequest(push: RenderedPush, fixed: Record<string, string>, minimal = false): { headers: Record<string, string>; body: string } {
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
  const moved: { label: string; url: string }[] = [...(push.more ?? [])];
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
    if (!minimal && actions.length < NTFY_MAX_ACTIONS && headerValue(a.url).length <= URL_BYTES && used + lineBytes('Actions', v) <= NTFY_HEADER_BUDGET_BYTES) {
      actions.push(actionOf(a));
      sent.add(a.url);
    } else moved.push({ label: a.label, url: a.action === 'http' ? a.confirm : a.url }); // in the body, a button that acts is its page that asks first
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
  const link = (url: string) => (push.markdown ? markdownLink(url) : url);
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

export class NtfyNotifier implements Notifier {
  readonly channel = 'ntfy';
  readonly takesActions = true;
  readonly #endpoint: string;
  readonly #peer: Peer = { channel: 'ntfy', server: 'the ntfy server', urlKey: 'notify.ntfy.url', credentials: 'notify.ntfy.token_file' };

  constructor(private readonly settings: NtfySettings) {
    this.#endpoint = `${base(settings.url)}/${settings.topic}`;
  }

  #auth(): Record<string, string> {
    return this.settings.token ? { Authorization: `Bearer ${this.settings.token}` } : {};
  }

  #post(req: { headers: Record<string, string>; body: string }): Promise<Answer> {
    return request(this.#peer, this.#endpoint, { method: 'POST', headers: req.headers, body: req.body, timeoutMs: this.settings.timeoutMs ?? 15_000 });
  }

  async send(m: Message): Promise<string | undefined> {
    const push = pushOf(m);
    const fixed = { ...this.#auth(), 'Content-Type': 'text/plain; charset=utf-8' };
    let answer = await this.#post(ntfyRequest(push, fixed));
    if (tooLarge(answer.status, answer.text)) {
      // A proxy with a small header limit: once more with the least we can send.
      answer = await this.#post(ntfyRequest(push, fixed, true));
      if (tooLarge(answer.status, answer.text))
        throw new NotifyError(this.channel, `${this.#endpoint} refused even a minimal request as too large (${answer.status}: ${answer.text.trim().slice(0, 300)}); its header limit is tiny: check the reverse proxy in front of ntfy (nginx: large_client_header_buffers)`, false);
    }
    if (!answer.ok) throw httpError(this.#peer, this.#endpoint, answer);
    try {
      return (JSON.parse(answer.text) as { id?: string }).id;
    } catch {
      return undefined;
    }
  }

  async probe(): Promise<void> {
    // The topic's /auth endpoint checks that our token may publish, without publishing.
    const a = await request(this.#peer, `${this.#endpoint}/auth`, { headers: this.#auth(), timeoutMs: 10_000 });
    if (a.status === 401 || a.status === 403)
      throw new NotifyError(this.channel, `${base(this.settings.url)} refused our credentials for topic ${this.settings.topic} (${a.status}); check notify.ntfy.token_file`, false);
    if (!a.ok && a.status !== 404) throw httpError(this.#peer, base(this.settings.url), a);
  }

  async close(): Promise<void> {}
}
