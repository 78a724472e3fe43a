/**
 * A loopback HTTP server that records what an ntfy server would receive and answers as ntfy
 * does (200 with the stored message as JSON). `respondNext(status, body)` queues other answers
 * (429, 500, 401 …) for the next requests. `maxHeaderBytes` refuses requests whose headers are
 * larger with 431, as a Go http server does (ntfy's own limit is Go's default MaxHeaderBytes,
 * 1 MB; behind nginx, `large_client_header_buffers` usually makes it 8 KB, which tests pass here).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback.ts';

export interface NtfyRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Go's http.DefaultMaxHeaderBytes: what a bare ntfy server accepts. */
export const GO_MAX_HEADER_BYTES = 1 << 20;

/** The size of a request's head as a server counts it: request line, then each `Name: value` line. */
export function headerBytes(method: string, path: string, rawHeaders: string[]): number {
  let n = Buffer.byteLength(`${method} ${path} HTTP/1.1\r\n`);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) n += Buffer.byteLength(`${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`, 'latin1');
  return n;
}

export class TestNtfy {
  readonly requests: NtfyRequest[] = [];
  /** Only the requests that ntfy would have accepted and shown. */
  readonly published: NtfyRequest[] = [];
  /** Requests refused with 431 because their headers were over `maxHeaderBytes`. */
  readonly refused: (NtfyRequest & { headerBytes: number })[] = [];
  #queued: { status: number; body: string }[] = [];
  /** Runs after a message is published and before it is answered (e.g. to stop Redis meanwhile). */
  beforeAnswer: (() => Promise<void>) | undefined;
  #server: Server;
  url = '';

  constructor(opts: { maxHeaderBytes?: number } = {}) {
    const limit = opts.maxHeaderBytes ?? GO_MAX_HEADER_BYTES;
    // Node's own parser stops at 16 KB by default; let it read more so that the limit here decides.
    this.#server = createServer({ maxHeaderSize: Math.max(limit, GO_MAX_HEADER_BYTES) * 2 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const r: NtfyRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(r);
        const size = headerBytes(r.method, r.path, req.rawHeaders);
        if (size > limit) {
          this.refused.push({ ...r, headerBytes: size });
          res.writeHead(431, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('431 Request Header Fields Too Large');
          return;
        }
        const next = this.#queued.shift();
        if (next) {
          res.writeHead(next.status, { 'Content-Type': 'application/json' }).end(next.body);
          return;
        }
        if (req.method === 'POST') this.published.push(r);
        const id = `msg${this.requests.length}`;
        await this.beforeAnswer?.();
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
