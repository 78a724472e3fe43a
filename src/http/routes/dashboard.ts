/**
 * The dashboard's static files, as `npm run build` leaves them in dist/web/: GET / (the page
 * shell, revalidated every time) and GET /assets/<content-hashed name> (cached for a year),
 * precompressed (br, gzip) by Accept-Encoding. Public: the shell carries no data; the data comes
 * from /api/*, which is guarded. A strict CSP: only this origin's scripts, styles and requests.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../route.ts';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

/** One file as built, with its precompressed forms. */
interface Served {
  type: string;
  etag: string;
  raw: Buffer;
  br?: Buffer;
  gz?: Buffer;
}

/**
 * dist/web of the build this module belongs to: beside it when running from dist/ (dist/http/routes
 * → dist/web), the checkout's dist/web when running from the sources through tsx.
 */
const WEB_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../dist/web/' : '../../web/', import.meta.url));

function readServed(file: string): Served {
  const raw = readFileSync(file);
  const optional = (p: string) => {
    try {
      return readFileSync(p);
    } catch {
      return undefined;
    }
  };
  const br = optional(`${file}.br`);
  const gz = optional(`${file}.gz`);
  return {
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
    raw,
    ...(br ? { br } : {}),
    ...(gz ? { gz } : {}),
  };
}

/** The built files in memory (a few hundred KB), or null while there is no build. */
function loadBuild(dir: string): { index: Served; assets: Map<string, Served> } | null {
  let index: Served;
  try {
    index = readServed(join(dir, 'index.html'));
  } catch {
    return null;
  }
  const assets = new Map<string, Served>();
  for (const name of readdirSync(join(dir, 'assets'))) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    assets.set(name, readServed(join(dir, 'assets', name)));
  }
  return { index, assets };
}

/** The best encoding the client accepts among those built: br, then gzip, else none. */
function encodingFor(accept: string | undefined, file: Served): 'br' | 'gzip' | undefined {
  const offered = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    if (name) offered.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (n: string) => (offered.get(n) ?? offered.get('*') ?? 0) > 0;
  if (file.br && ok('br')) return 'br';
  if (file.gz && ok('gzip')) return 'gzip';
  return undefined;
}

function send(req: FastifyRequest, reply: FastifyReply, file: Served, cacheControl: string) {
  reply.header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'no-referrer');
  reply.header('Cache-Control', cacheControl).header('Vary', 'Accept-Encoding').header('ETag', file.etag).type(file.type);
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const encoding = encodingFor(req.headers['accept-encoding'], file);
  if (encoding) reply.header('Content-Encoding', encoding);
  return reply.send(encoding === 'br' ? file.br : encoding === 'gzip' ? file.gz : file.raw);
}

export interface DashboardDeps {
  /** where the built page is (default: dist/web of this build); a test or benchmark may point elsewhere */
  dashboardDir?: string;
}

export const dashboard: RouteModule<DashboardDeps> = {
  name: 'dashboard',
  register(app, deps) {
    const dir = deps.dashboardDir ?? WEB_DIR;
    // Read once found; looked for again on each request until then (a build made after the start).
    let build: ReturnType<typeof loadBuild> = null;
    const current = () => (build ??= loadBuild(dir));

    app.get('/', { config: { access: 'public' } }, async (req, reply) => {
      const b = current();
      if (!b)
        return reply
          .code(503)
          .header('Content-Security-Policy', CSP)
          .header('Cache-Control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(`the dashboard is not built: run npm run build (looked for ${join(dir, 'index.html')}); the API under /api/ works without it\n`);
      return send(req, reply, b.index, 'no-cache');
    });

    app.get<{ Params: { file: string } }>('/assets/:file', { config: { access: 'public' } }, async (req, reply) => {
      // Only names the build wrote are served: the map is the allow-list, so no path reaches the disk.
      const file = current()?.assets.get(req.params.file);
      if (!file) return reply.code(404).header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(`no asset ${req.params.file}: reload the page (a new build renames its assets)\n`);
      return send(req, reply, file, 'public, max-age=31536000, immutable');
    });
  },
};
