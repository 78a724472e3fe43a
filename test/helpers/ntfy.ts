/**
 * A loopback HTTP server that records what an ntfy server would receive and answers as ntfy
 * does (200 with the stored message as JSON). `respondNext(status, body)` queues other answers
 * (429, 500, 401 …) for the next requests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback.ts';

export interface NtfyRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export class TestNtfy {
  readonly requests: NtfyRequest[] = [];
  /** Only the requests that ntfy would have accepted and shown. */
  readonly published: NtfyRequest[] = [];
  #queued: { status: number; body: string }[] = [];
  #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: NtfyRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(r);
        const next = this.#queued.shift();
        if (next) {
          res.writeHead(next.status, { 'Content-Type': 'application/json' }).end(next.body);
          return;
        }
        if (req.method === 'POST') this.published.push(r);
        const id = `msg${this.requests.length}`;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({ id, time: Math.floor(Date.now() / 1000), event: 'message', topic: r.path.slice(1), message: r.body }),
        );
      });
    });
  }

  respondNext(status: number, body: unknown): void {
    this.#queued.push({ status, body: JSON.stringify(body) });
  }

  async start(): Promise<this> {
    this.url = await listenLoopback(this.#server);
    return this;
  }

  async stop(): Promise<void> {
    await closeServer(this.#server);
  }
}
