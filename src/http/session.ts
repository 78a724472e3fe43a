/**
 * Who is looking at the dashboard. A person logs in once with the bearer token (and a name, for
 * the audit and the timeline) and gets a session: a random id in an HttpOnly, SameSite=Strict
 * cookie, kept in Redis so every labwatch process behind one address knows it. Every state-changing
 * request made with the cookie also carries the session's CSRF token in a header, which a page
 * on another site cannot read. Scripts send the bearer token instead and need neither.
 *
 * Without http.token_file on a loopback address the dashboard is open: an anonymous session is
 * made on the first visit so that its POSTs still carry a CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { redisKey } from '../keys.ts';

const SESSION_COOKIE = 'labwatch_session';
/** A session lasts this long after its last use (a phone stays logged in for a fortnight)… */
const SESSION_TTL_S = 14 * 86_400;
/** …and never longer than this after the log-in. */
const SESSION_MAX_MS = 30 * 86_400_000;
/** An open dashboard's anonymous session (it only carries the CSRF token): a day. */
const ANONYMOUS_TTL_S = 86_400;

export interface Person {
  /** the name given at log-in; "api token" for a script; "local user" on an open dashboard */
  name: string;
  via: 'dashboard' | 'api';
}

interface SessionRecord {
  name: string;
  csrf: string;
  at: string;
  /** which token it was made under (a fingerprint, not the token): a new token ends every session */
  tok: string;
}

const people = new WeakMap<FastifyRequest, Person>();

/** Who made this request, as the access check found (set on every 'person' route). */
export function personOf(req: FastifyRequest): Person {
  return people.get(req) ?? { name: 'unknown', via: 'api' };
}

export function setPerson(req: FastifyRequest, person: Person): void {
  people.set(req, person);
}

/** The name an open dashboard's sessions carry. */
export const ANONYMOUS = 'local user';

/** A request that came over HTTPS (itself, or through a proxy that says so) gets a Secure cookie. */
function secure(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

/** The value of one cookie in a Cookie header, or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const sameText = (a: string, b: string) => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

export class Sessions {
  readonly #tok: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** http.token_file's token; none: an open dashboard, whose sessions are anonymous */
    token?: string,
  ) {
    this.#tok = createHash('sha256').update(`labwatch session\0${token ?? ''}`).digest('hex').slice(0, 32);
  }

  #key(id: string): string {
    return redisKey(this.prefix, 'session', createHash('sha256').update(id).digest('hex'));
  }

  /** Starts a session for `name` (anonymous: an open dashboard's); sets the cookie on `reply`. */
  async start(req: FastifyRequest, reply: FastifyReply, name: string, anonymous = false): Promise<{ id: string; csrf: string; name: string }> {
    const id = randomBytes(32).toString('base64url');
    const record: SessionRecord = { name, csrf: randomBytes(24).toString('base64url'), at: new Date().toISOString(), tok: this.#tok };
    const ttl = anonymous ? ANONYMOUS_TTL_S : SESSION_TTL_S;
    // Only a hash of the id is stored: a Redis dump does not hand out live sessions.
    await this.redis.set(this.#key(id), JSON.stringify(record), 'EX', ttl);
    reply.header('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${ttl}${secure(req) ? '; Secure' : ''}`);
    return { id, csrf: record.csrf, name };
  }

  /** Reads (and keeps alive) the session named by the request's cookie. */
  async read(req: FastifyRequest): Promise<{ id: string; record: SessionRecord } | undefined> {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id || !/^[A-Za-z0-9_-]{20,64}$/.test(id)) return undefined;
    const key = this.#key(id);
    const raw = await this.redis.get(key);
    if (!raw) return undefined;
    const record = JSON.parse(raw) as SessionRecord;
    // Made under another token (or none), or too old: over, whatever the cookie says.
    if (record.tok !== this.#tok || Date.now() - Date.parse(record.at) > SESSION_MAX_MS) {
      await this.redis.del(key);
      return undefined;
    }
    if (record.name !== ANONYMOUS) void this.redis.expire(key, SESSION_TTL_S).catch(() => undefined);
    return { id, record };
  }

  async end(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (id && /^[A-Za-z0-9_-]{20,64}$/.test(id)) await this.redis.del(this.#key(id));
    reply.header('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure(req) ? '; Secure' : ''}`);
  }

  /** Whether a state-changing request carries its session's CSRF token. */
  static csrfMatches(req: FastifyRequest, record: { csrf: string }): boolean {
    const given = req.headers['x-csrf-token'];
    return typeof given === 'string' && given.length > 0 && given.length < 200 && sameText(given, record.csrf);
  }
}
