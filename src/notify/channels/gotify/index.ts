/**
 * Gotify (a self-hosted push server): `POST {url}/message` with the application token in
 * `X-Gotify-Key` and `{title, message, priority, extras}` as JSON, per Gotify's REST API
 * (gotify/server docs/spec.json, createMessage) and its message extras (gotify.net/docs/msgextras):
 * `client::display.contentType: text/markdown` renders the body as markdown (alert text is
 * escaped: no image or link of its own), `client::notification.click.url` opens the report.
 * An app token may only create messages, so `check` can see the server is up but not the token.
 */
import * as z from 'zod';
import type { Level, Message, Notifier } from '../../notifier.ts';
import { duration, ms } from '../../../config/parts.ts';
import { base, httpError, request, type Peer } from '../http.ts';
import type { Channel } from '../types.ts';

const config = z.strictObject({
  url: z.string().url(),
  /** file holding the application token (Gotify: Apps → Create Application) */
  token_file: z.string().min(1),
  timeout: duration.default('15s'),
});
type GotifyBlock = z.infer<typeof config>;

/** Gotify's scale (0–10; its Android app rings from 8, notifies quietly below 4). */
const GOTIFY_PRIORITY: Record<Level, number> = { critical: 8, warning: 5, info: 2, resolved: 2 };

/** The JSON body for one message. */
function gotifyBody(m: Message): Record<string, unknown> {
  const click = m.page ?? m.report?.links[0]?.url;
  return {
    title: m.subject,
    message: m.markdown,
    priority: GOTIFY_PRIORITY[m.level],
    extras: {
      'client::display': { contentType: 'text/markdown' },
      ...(click ? { 'client::notification': { click: { url: click } } } : {}),
    },
  };
}

class GotifyNotifier implements Notifier {
  readonly channel = 'gotify';
  readonly #peer: Peer = { channel: 'gotify', server: 'the Gotify server', urlKey: 'notify.gotify.url', credentials: 'notify.gotify.token_file (an application token, not a client token)' };

  constructor(
    private readonly block: GotifyBlock,
    private readonly token: string | undefined,
  ) {}

  async send(m: Message): Promise<string | undefined> {
    const url = `${base(this.block.url)}/message`;
    const a = await request(this.#peer, url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(this.token ? { 'X-Gotify-Key': this.token } : {}) },
      body: JSON.stringify(gotifyBody(m)),
      timeoutMs: ms(this.block.timeout),
    });
    if (!a.ok) throw httpError(this.#peer, url, a);
    try {
      const id = (JSON.parse(a.text) as { id?: number }).id;
      return id === undefined ? undefined : String(id);
    } catch {
      return undefined;
    }
  }

  /** GET /health (no token needed): the server and its database answer. */
  async probe(): Promise<string> {
    const url = `${base(this.block.url)}/health`;
    const a = await request(this.#peer, url, { timeoutMs: 10_000 });
    let health: { health?: string; database?: string } = {};
    try {
      health = JSON.parse(a.text) as typeof health;
    } catch {
      /* not Gotify's JSON: said below */
    }
    if (!a.ok) throw httpError(this.#peer, url, a.status === 500 && health.database ? { ...a, text: `health ${health.health}, database ${health.database}` } : a);
    if (health.health === undefined) throw httpError(this.#peer, url, { status: a.status, text: `not Gotify's health answer: ${a.text}` });
    return `Gotify at ${base(this.block.url)} is ${health.health}; its app token is only checked by sending (labwatch notify test --channel gotify)`;
  }

  async close(): Promise<void> {}
}

export const gotify: Channel<GotifyBlock> = {
  name: 'gotify',
  description: 'Gotify push server (markdown, priority from severity)',
  config,
  secrets: [{ file: 'token_file', env: 'LABWATCH_GOTIFY_TOKEN' }],
  delivery: { critical: 'immediate', warning: 'immediate', info: 'digest' },
  create: (block, secrets) => new GotifyNotifier(block, secrets.token_file),
};
