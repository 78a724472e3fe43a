/**
 * A webhook: one POST of a documented JSON body (README.md here) per message, for Home Assistant,
 * n8n, Node-RED or anything that takes JSON. Secret headers (a bearer token, an API key) come
 * from files, one per header. Redirects are not followed: a webhook that moved is a config fix.
 */
import * as z from 'zod';
import { duration, ms } from '../../../config/parts.ts';
import type { Message, Notifier } from '../../notifier.ts';
import { httpError, request, type Peer } from '../http.ts';
import type { Channel } from '../types.ts';
import { webhookBody } from './body.ts';

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name');

const config = z.strictObject({
  url: z.string().url(),
  /** header name → file holding its value, e.g. { Authorization: /etc/labwatch/ha-webhook-auth } */
  headers_files: z.record(headerName, z.string().min(1)).optional(),
  timeout: duration.default('10s'),
});
type WebhookBlock = z.infer<typeof config>;

class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  readonly #peer: Peer = { channel: 'webhook', server: 'the receiver', urlKey: 'notify.webhook.url', credentials: 'notify.webhook.headers_files' };

  constructor(
    private readonly block: WebhookBlock,
    private readonly headers: Record<string, string>,
  ) {}

  async send(m: Message): Promise<undefined> {
    const a = await request(this.#peer, this.block.url, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...m.headers, ...this.headers, 'Content-Type': 'application/json', 'User-Agent': 'labwatch' },
      body: JSON.stringify(webhookBody(m)),
      timeoutMs: ms(this.block.timeout),
    });
    if (a.status < 200 || a.status > 299) throw httpError(this.#peer, this.block.url, a);
    return undefined;
  }

  /** A webhook answers only by acting on a message, so nothing is sent here. */
  async probe(): Promise<string> {
    return `webhook ${this.block.url}: not checked, as any request would act on it; labwatch notify test --channel webhook sends a test message`;
  }

  async close(): Promise<void> {}
}

export const webhook: Channel<WebhookBlock> = {
  name: 'webhook',
  description: 'a JSON POST for Home Assistant, n8n, Node-RED or anything else',
  config,
  secrets: [{ file: 'headers_files', env: 'LABWATCH_WEBHOOK_HEADER', each: true }],
  delivery: { critical: 'immediate', warning: 'immediate', info: 'digest' },
  create(block, secrets) {
    const headers: Record<string, string> = {};
    for (const name of Object.keys(block.headers_files ?? {})) {
      const value = secrets[`headers_files.${name}`];
      if (value === undefined) throw new Error(`notify.webhook.headers_files.${name}: its file was not read, so the header would be missing`);
      headers[name] = value;
    }
    return new WebhookNotifier(block, headers);
  },
};
