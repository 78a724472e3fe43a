/**
 * A TCP gate in front of a channel's stand-in, on a port of its own, that makes the channel go away
 * and come back as it does in a homelab:
 *   open    — every connection is piped to the stand-in;
 *   closed  — nothing listens on the port (the service is stopped: ECONNREFUSED);
 *   failing — a reverse proxy whose upstream is down answers every request `502 Bad Gateway`
 *             (nginx's and Caddy's answer), then closes the connection.
 * Connections accepted while failing are counted: they are the attempts the channel saw.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type GateState = 'open' | 'closed' | 'failing';

export class Gate {
  port = 0;
  state: GateState = 'open';
  /** requests answered 502 while failing (one per connection: the gate closes after answering) */
  failedRequests = 0;
  #server: Server | undefined;
  #sockets = new Set<Socket>();

  constructor(private readonly target: { host?: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await this.#listen();
    return this;
  }

  /** Moves to `state`: connections open now are cut, so nothing slips through a kept-alive socket. */
  async set(state: GateState): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    const listening = this.state !== 'closed';
    this.state = state;
    if (state === 'closed' && listening) await this.#close();
    if (state !== 'closed' && !listening) await this.#listen();
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    if (this.state !== 'closed') await this.#close();
  }

  #listen(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  #close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    if (this.state === 'failing') {
      // Answer once the request's head has arrived, as a proxy does.
      let head = '';
      socket.on('data', (d: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        this.failedRequests++;
        const body = '<html><body><h1>502 Bad Gateway</h1></body></html>';
        socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
      return;
    }
    const upstream = connect(this.target.port, this.target.host ?? '127.0.0.1');
    this.#sockets.add(upstream);
    upstream.on('close', () => this.#sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  }
}
