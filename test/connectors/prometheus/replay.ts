/**
 * A loopback stand-in for Prometheus: answers each API path with a fixture file from
 * ../shared/fixtures/prometheus/ or test/fixtures/prometheus/ (byte for byte) and records every request it received.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { closeServer, listenLoopback } from '../../helpers/loopback.ts';
import { readFixture } from '../../helpers/fixtures.ts';

export const fixture = (name: string): string => readFixture('prometheus', name);

export interface Reply {
  status?: number;
  /** a fixture file name, or a literal body */
  file?: string;
  body?: string;
  contentType?: string;
}

export interface Seen {
  method: string;
  path: string;
  /** the query string's (GET) or form body's (POST) parameters */
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export class Replay {
  readonly seen: Seen[] = [];
  url = '';
  readonly #server: Server;

  /** `routes` maps a path (/api/v1/query) to its reply, or to a function of the request's parameters and headers. */
  constructor(readonly routes: Record<string, Reply | ((p: URLSearchParams, headers: IncomingHttpHeaders) => Reply)>) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const params = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : u.searchParams;
        this.seen.push({ method: req.method ?? '', path: u.pathname, params, headers: req.headers });
        const route = this.routes[u.pathname];
        if (!route) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
          return;
        }
        const r = typeof route === 'function' ? route(params, req.headers) : route;
        const body = r.file ? fixture(r.file) : (r.body ?? '');
        res.writeHead(r.status ?? 200, { 'content-type': r.contentType ?? 'application/json' }).end(body);
      });
    });
  }

  async start(): Promise<this> {
    this.url = await listenLoopback(this.#server);
    return this;
  }

  last(path: string): Seen | undefined {
    return this.seen.filter((s) => s.path === path).at(-1);
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

/** Prometheus' answers to the fixtures' requests, with the HTTP status Prometheus gives each errorType. */
export const ROUTES: Record<string, Reply> = {
  '/api/v1/query': { file: 'query-instant-vector-up-docs.json' },
  '/api/v1/query_range': { file: 'query-range-matrix-up-docs.json' },
  '/api/v1/alerts': { file: 'alerts-v1-one-firing-docs.json' },
  '/api/v1/targets': { file: 'targets-active-and-dropped-docs.json' },
  '/api/v1/rules': { file: 'rules-alerting-recording-one-failing-2.42.json' },
};

/** A port on 127.0.0.1 that was free a moment ago (and nothing listens on now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
