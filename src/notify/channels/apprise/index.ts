/**
 * The Apprise API server (caronc/apprise-api): one target that reaches 100+ services (Discord,
 * Telegram, Matrix, Pushover, Slack…), their secrets kept in Apprise. As its README and views
 * document: `POST {url}/notify/{key}` sends to the services saved under a key (optionally only
 * those with `tag`), `POST {url}/notify` is stateless (the `urls` given, else the server's
 * APPRISE_STATELESS_URLS), JSON `{title, body, type: info|success|warning|failure, format}`.
 *
 * Its answers: 200 sent; 204 nothing to send to (no config under the key, no valid URL); 424
 * one or more services failed (or none matched the tags); 400/431 a bad request. 204 and 424 are
 * final here: 204 is a config mistake, and a retry after 424 would repeat the message on every
 * service that already had it.
 */
import * as z from 'zod';
import { duration, ms } from '../../../config/parts.ts';
import { NotifyError, type Level, type Message, type Notifier } from '../../notifier.ts';
import { base, httpError, request, type Answer, type Peer } from '../http.ts';
import type { Channel } from '../types.ts';

const config = z
  .strictObject({
    url: z.string().url(),
    /** the configuration key on the Apprise server (as its /notify/{KEY} route accepts it) */
    key: z.string().regex(/^[\w-]{1,128}$/, 'an Apprise key: 1–128 letters, digits, "_" or "-"').optional(),
    /** only the services with these tags (Apprise's tag rules: a list is "any of"; "a b" in one string is "both") */
    tags: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** stateless, without a key: file holding the Apprise URLs to notify (they carry the services' secrets) */
    urls_file: z.string().min(1).optional(),
    /** Apprise sends to every service before it answers */
    timeout: duration.default('30s'),
  })
  .refine((c) => !(c.key && c.urls_file), { message: 'give key (a configuration saved in Apprise) or urls_file (stateless), not both', path: ['urls_file'] })
  .refine((c) => !c.tags || c.key, { message: 'tags select services saved under a key; set key too', path: ['tags'] });
type AppriseBlock = z.infer<typeof config>;

const APPRISE_TYPE: Record<Level, 'info' | 'success' | 'warning' | 'failure'> = { critical: 'failure', warning: 'warning', info: 'info', resolved: 'success' };

/** The JSON body for one message. */
function appriseBody(m: Message, block: Pick<AppriseBlock, 'key' | 'tags'>, urls?: string): Record<string, unknown> {
  return {
    title: m.subject,
    body: m.markdown,
    type: APPRISE_TYPE[m.level],
    format: 'markdown',
    ...(block.key && block.tags ? { tag: block.tags } : {}),
    ...(!block.key && urls ? { urls } : {}),
  };
}

/** The messages Apprise logged about a failed send (`details`: [level, time, message] triples), last three. */
function appriseDetails(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: string; details?: unknown };
    const lines = Array.isArray(j.details) ? j.details.map((d) => (Array.isArray(d) ? String(d[2] ?? '') : String(d))).filter(Boolean) : [];
    return [j.error, ...lines.slice(-3)].filter(Boolean).join('; ');
  } catch {
    return text.replace(/\s+/g, ' ').trim().slice(0, 300);
  }
}

class AppriseNotifier implements Notifier {
  readonly channel = 'apprise';
  readonly #peer: Peer = { channel: 'apprise', server: 'the Apprise API server', urlKey: 'notify.apprise.url' };

  constructor(
    private readonly block: AppriseBlock,
    private readonly urls: string | undefined,
  ) {}

  get #what(): string {
    return this.block.key ? `key "${this.block.key}"${this.block.tags ? ` with tags ${JSON.stringify(this.block.tags)}` : ''}` : this.urls ? 'the URLs in notify.apprise.urls_file' : "the server's APPRISE_STATELESS_URLS";
  }

  #fail(url: string, a: Answer): NotifyError {
    if (a.status === 204)
      return new NotifyError(
        this.channel,
        this.block.key
          ? `${url}: nothing is saved under key "${this.block.key}" in Apprise (204); save a configuration under it, or check notify.apprise.key`
          : `${url}: no valid URL to notify in ${this.#what} (204)`,
        false,
      );
    if (a.status === 424)
      return new NotifyError(this.channel, `${url} could not deliver to one or more services of ${this.#what} (424: ${appriseDetails(a.text)}); not retried, as the services that had it would get it again`, false);
    return httpError(this.#peer, url, { status: a.status, text: appriseDetails(a.text) || a.text });
  }

  async send(m: Message): Promise<undefined> {
    const url = this.block.key ? `${base(this.block.url)}/notify/${this.block.key}` : `${base(this.block.url)}/notify`;
    const a = await request(this.#peer, url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(appriseBody(m, this.block, this.urls)),
      timeoutMs: ms(this.block.timeout),
    });
    if (a.status !== 200) throw this.#fail(url, a);
    return undefined;
  }

  /** GET /status (the server is well); with a key, GET /json/urls/{key} lists the services a message would reach, secrets hidden. */
  async probe(): Promise<string> {
    const status = `${base(this.block.url)}/status`;
    const s = await request(this.#peer, status, { headers: { Accept: 'application/json' }, timeoutMs: 10_000 });
    if (!s.ok) throw httpError(this.#peer, status, s);
    if (!this.block.key) return `Apprise API at ${base(this.block.url)} is up; stateless, to ${this.#what}`;
    const tag = this.block.tags ? `&tag=${encodeURIComponent([this.block.tags].flat().join(','))}` : '';
    const list = `${base(this.block.url)}/json/urls/${this.block.key}?privacy=1${tag}`;
    const a = await request(this.#peer, list, { headers: { Accept: 'application/json' }, timeoutMs: 10_000 });
    if (a.status === 204) throw this.#fail(list, a);
    if (!a.ok) throw httpError(this.#peer, list, a);
    const found = (JSON.parse(a.text) as { urls?: unknown[] }).urls?.length ?? 0;
    if (!found) throw new NotifyError(this.channel, `${list}: no service under ${this.#what}; check notify.apprise.tags`, false);
    return `Apprise API at ${base(this.block.url)}: ${this.#what} reaches ${found} service${found === 1 ? '' : 's'}`;
  }

  async close(): Promise<void> {}
}

export const apprise: Channel<AppriseBlock> = {
  name: 'apprise',
  description: 'Apprise API server: one target for 100+ services (Discord, Telegram, Matrix, Pushover…)',
  config,
  secrets: [{ file: 'urls_file', env: 'LABWATCH_APPRISE_URLS' }],
  delivery: { critical: 'immediate', warning: 'immediate', info: 'digest' },
  create: (block, secrets) => new AppriseNotifier(block, secrets.urls_file),
};
