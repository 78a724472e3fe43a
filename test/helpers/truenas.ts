/**
 * A TrueNAS SCALE NAS on loopback: a `ws` JSON-RPC 2.0 server over HTTPS (the test certificate of
 * lab-api.ts), speaking as truenas/middleware's jsonrpc.rst says. It requires `auth.login_ex`
 * first (SUCCESS for the right user and key, AUTH_ERR otherwise), answers `core.get_methods` with
 * the real 25.04 answer (shared/fixtures/truenas) and the rest from a method table (the derived
 * bodies in test/fixtures-derived/truenas: no real capture of them exists). It refuses, as the NAS
 * would, with -32001 EACCES "Not authorized", any method READONLY_ADMIN may not call, and records
 * it as a violation that fails the test on close; so is a batch (a JSON array frame), params that
 * are not an array, and a call before login. Faults: a call that stalls, a connection dropped
 * when a method arrives; `push` sends a `collection_update` notification.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { sharedFixture } from './fixtures.ts';
import { testCertificate, type TestCertificate } from './lab-api.ts';

export const TN_USER = 'labwatch';
export const TN_KEY = '1-4fJ3mQx8vYwzR2kP9sLdT6hNcB0aEuG7iKoV5jWyXq1ZrSt3UeHbMnDl8FgCpAx';

const DERIVED = fileURLToPath(new URL('../fixtures-derived/truenas/', import.meta.url));
export const derived = (name: string): unknown => JSON.parse(readFileSync(`${DERIVED}${name}`, 'utf8'));

let realMethods: Record<string, { roles: string[] }> | undefined;
/** The real 25.04 `core.get_methods` answer (3.4 MB), read once. */
export function coreGetMethods(): Record<string, { roles: string[] }> {
  return (realMethods ??= JSON.parse(readFileSync(sharedFixture('truenas', 'core-get-methods-25.04.json'), 'utf8')));
}

/** What a READONLY_ADMIN session may call: the methods whose roles list it, the login methods, and core.get_methods. */
function readonlyAdminMethods(): Set<string> {
  const allowed = new Set(['auth.login_ex', 'auth.login_with_api_key', 'core.get_methods']);
  for (const [name, m] of Object.entries(coreGetMethods())) if (m.roles.includes('READONLY_ADMIN')) allowed.add(name);
  return allowed;
}

/** `{"$date": ms}` so many days before now (scrubs, task runs: recent whenever the test runs). */
export const daysAgo = (d: number) => ({ $date: Date.now() - d * 86_400_000 });

/** A healthy NAS's table: every read labwatch makes, from the derived bodies, scans moved to "3 days ago". */
export function healthyTable(): Record<string, unknown> {
  const pools = derived('pool-query-healthy.json') as { scan: Record<string, unknown> }[];
  for (const p of pools) Object.assign(p.scan, { start_time: daysAgo(3.1), end_time: daysAgo(3) });
  return {
    'system.info': derived('system-info.json'),
    'pool.query': pools,
    'disk.query': derived('disk-query.json'),
    'disk.temperatures': derived('disk-temperatures.json'),
    'smart.test.results': derived('smart-test-results.json'),
    'alert.list': derived('alert-list-healthy.json'),
    'replication.query': derived('replication-query.json'),
    'cloudsync.query': derived('cloudsync-query.json'),
    'pool.snapshottask.query': derived('pool-snapshottask-query.json'),
    'app.query': derived('app-query.json'),
    'interface.query': derived('interface-query.json'),
  };
}

type Answer = unknown | ((params: unknown[]) => unknown);

export interface TrueNasStandIn {
  /** wss://127.0.0.1:<port>/api/current */
  url: string;
  /** every method called, in order (login included) */
  calls: string[];
  violations: string[];
  /** connections opened so far */
  connections: number;
  answer(method: string, a: Answer): void;
  /** the method never answers while set */
  stall(method: string, on: boolean): void;
  /** the next call of `method` drops the connection instead of answering */
  dropOn(method: string): void;
  /** take `method` out of core.get_methods (a release without it) */
  remove(method: string): void;
  /** refuse `method` as a NAS whose admin did not grant it would (EACCES; not a violation: labwatch asked for an allowed method) */
  deny(method: string, on?: boolean): void;
  /** a collection_update notification to every open connection */
  push(params: unknown): void;
  /** calls since the last take */
  take(): string[];
  close(): Promise<void>;
}

interface Frame {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

export async function startTrueNas(opts: { certificate?: TestCertificate; table?: Record<string, unknown> } = {}): Promise<TrueNasStandIn> {
  const cert = opts.certificate ?? testCertificate();
  const table = new Map<string, Answer>(Object.entries(opts.table ?? healthyTable()));
  const allowed = readonlyAdminMethods();
  const removed = new Set<string>();
  const denied = new Set<string>();
  const stalled = new Set<string>();
  const drops = new Set<string>();
  const calls: string[] = [];
  const violations: string[] = [];
  const sockets = new Set<WebSocket>();
  let connections = 0;
  let mark = 0;

  const server: Server = createServer({ key: cert.key, cert: cert.cert });
  const wss = new WebSocketServer({ server, path: '/api/current' });
  wss.on('connection', (ws) => {
    connections++;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    let authed = false;
    const reply = (id: unknown, body: { result: unknown } | { error: unknown }) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, ...body }));
    const callError = (id: unknown, errno: number, errname: string, reason: string) =>
      reply(id, { error: { code: -32001, message: 'Method call error', data: { error: errno, errname, reason, trace: null, extra: null } } });
    ws.on('message', (data) => {
      let frame: Frame | Frame[];
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return reply(null, { error: { code: -32700, message: 'Parse error' } });
      }
      if (Array.isArray(frame)) {
        violations.push('a batch (JSON array frame) was sent; TrueNAS rejects batches');
        return reply(null, { error: { code: -32600, message: 'Batch requests are not supported' } });
      }
      const { id, method, params } = frame;
      if (frame.jsonrpc !== '2.0' || typeof method !== 'string') return reply(id ?? null, { error: { code: -32600, message: 'Invalid Request' } });
      calls.push(method);
      if (!Array.isArray(params)) {
        violations.push(`${method} was sent with params that are not an array: ${JSON.stringify(params)}`);
        return reply(id, { error: { code: -32602, message: 'Invalid params' } });
      }
      if (method === 'auth.login_ex') {
        const p = params[0] as { mechanism?: string; username?: string; api_key?: string } | undefined;
        authed = p?.mechanism === 'API_KEY_PLAIN' && p.username === TN_USER && p.api_key === TN_KEY;
        return reply(id, { result: authed ? { response_type: 'SUCCESS', user_info: { username: TN_USER, privilege: { roles: { $set: ['READONLY_ADMIN'] } } }, authenticator: 'LEVEL_1' } : { response_type: 'AUTH_ERR' } });
      }
      if (!authed) {
        violations.push(`${method} was called before logging in`);
        return callError(id, 13, 'ENOTAUTHENTICATED', 'Not authenticated');
      }
      if (!allowed.has(method) || removed.has(method)) {
        if (!removed.has(method)) violations.push(`${method} was called: READONLY_ADMIN may not call it`);
        return removed.has(method) ? reply(id, { error: { code: -32601, message: 'Method not found' } }) : callError(id, 13, 'EACCES', 'Not authorized');
      }
      if (denied.has(method)) return callError(id, 13, 'EACCES', 'Not authorized');
      if (drops.delete(method)) return ws.terminate();
      if (stalled.has(method)) return;
      if (method === 'core.get_methods') {
        const all = coreGetMethods();
        return reply(id, { result: removed.size ? Object.fromEntries(Object.entries(all).filter(([k]) => !removed.has(k))) : all });
      }
      const a = table.get(method);
      if (a === undefined) return callError(id, 2, 'ENOENT', `no answer for ${method} in the stand-in's table`);
      reply(id, { result: typeof a === 'function' ? (a as (p: unknown[]) => unknown)(params) : a });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/api/current`;
  return {
    url,
    calls,
    violations,
    get connections() {
      return connections;
    },
    answer: (method, a) => void table.set(method, a),
    stall: (method, on) => void (on ? stalled.add(method) : stalled.delete(method)),
    dropOn: (method) => void drops.add(method),
    remove: (method) => void removed.add(method),
    deny: (method, on = true) => void (on ? denied.add(method) : denied.delete(method)),
    push: (params) => {
      for (const ws of sockets) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'collection_update', params }));
    },
    take: () => {
      const out = calls.slice(mark);
      mark = calls.length;
      return out;
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (violations.length) throw new Error(`the TrueNAS stand-in saw what labwatch must never do:\n  ${violations.join('\n  ')}`);
    },
  };
}
