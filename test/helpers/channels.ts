/**
 * Loopback servers that answer as Gotify, the Apprise API and a webhook receiver do, recording
 * every request. The answers follow the projects' own documentation, not guesses:
 *   Gotify: gotify/server docs/spec.json (createMessage: 200 with the stored Message; 401/403 with
 *     its Error model {error, errorCode, errorDescription}; GET /health → {health, database}).
 *   Apprise API: caronc/apprise-api README and api/views.py (200 {error: null, details}; 204 when
 *     a key has no configuration; 424 {error, details} when a service failed; /status; /json/urls/{key}).
 * `respondNext(status, body)` queues other answers (500, 401 …) for the next requests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback.ts';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  /** what it was answered */
  status?: number;
}

type Answer = { status: number; body?: unknown };

export class Receiver {
  readonly requests: Recorded[] = [];
  /** Runs after a request is recorded and before it is answered (e.g. to stop Redis meanwhile). */
  beforeAnswer: (() => Promise<void>) | undefined;
  #queued: Answer[] = [];
  #server: Server;
  url = '';

  constructor(answer: (r: Recorded) => Answer) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const r: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
        this.requests.push(r);
        const a = this.#queued.shift() ?? answer(r);
        r.status = a.status;
        await this.beforeAnswer?.();
        if (a.body === undefined) res.writeHead(a.status).end();
        else res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body));
      });
    });
  }

  /** Requests that were answered with a 2xx (what the server took). */
  get accepted(): Recorded[] {
    return this.requests.filter((r) => r.status !== undefined && r.status < 300);
  }

  respondNext(status: number, body?: unknown): this {
    this.#queued.push({ status, ...(body === undefined ? {} : { body }) });
    return this;
  }

  async start(): Promise<this> {
    this.url = await listenLoopback(this.#server);
    return this;
  }

  async stop(): Promise<void> {
    await closeServer(this.#server);
  }
}

/** A Gotify server with one application whose token is `token`. */
export function testGotify(token: string): Receiver {
  let id = 0;
  return new Receiver((r) => {
    if (r.method === 'GET' && r.path === '/health') return { status: 200, body: { health: 'green', database: 'green' } };
    if (r.method === 'POST' && r.path === '/message') {
      if (r.headers['x-gotify-key'] !== token)
        return { status: 401, body: { error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' } };
      const m = r.json as { title?: string; message?: string; priority?: number; extras?: unknown };
      return { status: 200, body: { id: ++id, appid: 1, title: m.title, message: m.message, priority: m.priority, extras: m.extras, date: new Date().toISOString() } };
    }
    return { status: 404, body: { error: 'Not Found', errorCode: 404, errorDescription: 'page not found' } };
  });
}

/** An Apprise API server with services saved under `keys` (key → services, each with its tags). */
export function testApprise(keys: Record<string, { url: string; tags: string[] }[]>): Receiver {
  // `details` holds Apprise's log lines as [level, time, message]; none are needed here.
  const delivered: unknown[] = [];
  return new Receiver((r) => {
    const path = r.path.split('?')[0]!;
    if (r.method === 'GET' && path === '/status') return { status: 200, body: { config_lock: false, attach_lock: false, status: { details: ['OK'] } } };
    const list = /^\/json\/urls\/([\w-]+)$/.exec(path);
    if (r.method === 'GET' && list) {
      const services = keys[list[1]!];
      if (!services) return { status: 204 };
      const tag = new URL(r.path, 'http://x').searchParams.get('tag');
      const found = services.filter((s) => !tag || tag.split(',').some((t) => s.tags.includes(t)));
      return { status: 200, body: { tags: [...new Set(found.flatMap((s) => s.tags))], urls: found.map((s, i) => ({ id: String(i), url: s.url, tags: s.tags })) } };
    }
    const notify = /^\/notify\/([\w-]+)\/?$/.exec(path);
    if (r.method === 'POST' && notify) {
      if (!keys[notify[1]!]) return { status: 204 };
      return { status: 200, body: { error: null, details: delivered } };
    }
    if (r.method === 'POST' && /^\/notify\/?$/.test(path)) {
      const urls = (r.json as { urls?: string } | undefined)?.urls;
      if (!urls) return { status: 204 };
      return { status: 200, body: { error: null, details: delivered } };
    }
    return { status: 404 };
  });
}

/** A webhook receiver that accepts every POST with 200. */
export function testWebhook(): Receiver {
  return new Receiver(() => ({ status: 200, body: { ok: true } }));
}
