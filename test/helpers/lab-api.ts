/**
 * A lab system's HTTPS API on loopback (Proxmox VE, PBS, and the other REST systems): it replays
 * real captured answers by method + path + query, checks the token header on every call, and
 * fails the test on any method but GET (labwatch must never change a lab system). Faults on
 * demand: an HTTP status with Proxmox's reason line, a stalled answer, or a node that is gone.
 *
 * Its certificate is made for the test by openssl: a CA and a server certificate for 127.0.0.1
 * signed by it, so both trust paths (ca_file, and tls_fingerprint pinning) are exercised for real.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** the CA's PEM file (for ca_file) */
  caFile: string;
  key: Buffer;
  cert: Buffer;
  /** the server certificate's SHA-256 fingerprint, "AB:CD:…" */
  fingerprint: string;
}

let made: TestCertificate | undefined;

/** A CA and a server certificate for 127.0.0.1 and localhost, made once per test process. */
export function testCertificate(): TestCertificate {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-tls-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=labwatch test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('node.key'), '-out', f('node.csr'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  ssl('x509', '-req', '-in', f('node.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-out', f('node.pem'), '-extfile', f('ext.cnf'));
  const fp = ssl('x509', '-in', f('node.pem'), '-noout', '-fingerprint', '-sha256').toString().trim();
  made = { caFile: f('ca.pem'), key: readFileSync(f('node.key')), cert: readFileSync(f('node.pem')), fingerprint: fp.split('=')[1]! };
  return made;
}

/** An answer: a JSON body (sent as is when a string, else JSON-encoded), or one made per request. */
export type Answer = string | object | ((req: IncomingMessage, url: URL) => string | object);

export type Fault = { status: number; reason: string; body?: string } | 'stall' | 'drop';

export interface LabApi {
  url: string;
  /** every request as "GET /api2/json/…?…" in order */
  calls: string[];
  /** requests that were not GET, or had the wrong token: the test fails on close when any */
  violations: string[];
  /** answer `path` (with its query, or path alone for any query) with `answer` */
  route(path: string, answer: Answer): void;
  /** make every path starting with `prefix` fail this way until cleared (`undefined`) */
  fault(prefix: string, fault: Fault | undefined): void;
  /** calls since the last reset, then reset */
  take(): string[];
  /** stops it; throws when a violation happened, so the test that caused it fails */
  close(): Promise<void>;
}

/**
 * Starts the server. `authorization` is the exact header labwatch must send; a call without it
 * gets 401 (Proxmox's "authentication failure") and counts as a violation unless `expectUnauthorized`.
 */
export async function startLabApi(opts: { authorization: string; expectUnauthorized?: boolean; certificate?: TestCertificate }): Promise<LabApi> {
  const cert = opts.certificate ?? testCertificate();
  const routes = new Map<string, Answer>();
  const faults = new Map<string, Fault>();
  const calls: string[] = [];
  const violations: string[] = [];
  let mark = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const line = `${req.method} ${url.pathname}${url.search}`;
    calls.push(line);
    if (req.method !== 'GET') {
      violations.push(`a ${req.method} reached the lab system: ${line}`);
      res.writeHead(501, 'Method not implemented').end('{"data":null}');
      return;
    }
    if (req.headers.authorization !== opts.authorization) {
      if (!opts.expectUnauthorized) violations.push(`wrong or missing token on ${line}: ${String(req.headers.authorization)}`);
      res.writeHead(401, 'authentication failure', { 'content-type': 'application/json' }).end('{"data":null}');
      return;
    }
    const fault = [...faults].find(([p]) => decodeURIComponent(url.pathname).startsWith(p))?.[1];
    if (fault === 'stall') return; // never answers: the client's timeout must act
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      res.writeHead(fault.status, fault.reason, { 'content-type': 'application/json' }).end(fault.body ?? '{"data":null}');
      return;
    }
    // routes are written decoded (a UPID's colons arrive as %3A)
    const path = decodeURIComponent(url.pathname);
    const answer = routes.get(`${path}${url.search}`) ?? routes.get(path);
    if (answer === undefined) {
      // Proxmox answers an unknown path with 501 and this reason
      res.writeHead(501, `Method 'GET ${url.pathname}' not implemented`, { 'content-type': 'application/json' }).end('{"data":null}');
      return;
    }
    const body = typeof answer === 'function' ? answer(req, url) : answer;
    res.writeHead(200, 'OK', { 'content-type': 'application/json;charset=UTF-8' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server: Server = createServer({ key: cert.key, cert: cert.cert }, handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    violations,
    route: (path, answer) => void routes.set(path, answer),
    fault: (prefix, f) => void (f === undefined ? faults.delete(prefix) : faults.set(prefix, f)),
    take: () => {
      const out = calls.slice(mark);
      mark = calls.length;
      return out;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (violations.length) throw new Error(`the lab API saw what labwatch must never do:\n  ${violations.join('\n  ')}`);
    },
  };
}
