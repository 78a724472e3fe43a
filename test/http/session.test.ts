/**
 * Dashboard sessions in real Redis: a session made under one token ends when the token changes
 * (a leaked token rotated), an open dashboard's anonymous session is worthless once a token is
 * set, and only a hash of the cookie's id is stored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { ANONYMOUS, Sessions } from '../../src/http/session.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';

const prefix = `lwtest-session-${randomBytes(3).toString('hex')}`;
let redis: Redis;
before(() => {
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** A server whose /start makes a session and /who reads it, with the sessions given. */
function server(sessions: Sessions): FastifyInstance {
  const app = Fastify();
  app.post<{ Querystring: { anonymous?: string } }>('/start', async (req, reply) => sessions.start(req, reply, req.query.anonymous ? ANONYMOUS : 'alice', !!req.query.anonymous));
  app.get('/who', async (req) => ({ name: (await sessions.read(req))?.record.name ?? null }));
  return app;
}

async function cookieFrom(app: FastifyInstance, query = '', headers: Record<string, string> = {}): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/start${query}`, headers });
  return String(res.headers['set-cookie']).split(';')[0]!;
}

const who = async (app: FastifyInstance, cookie: string) => (await app.inject({ url: '/who', headers: { cookie } })).json<{ name: string | null }>().name;

test('a new token ends the sessions made under the old one', async () => {
  const before = server(new Sessions(redis, prefix, 'token-one'));
  const cookie = await cookieFrom(before);
  assert.equal(await who(before, cookie), 'alice');
  const rotated = server(new Sessions(redis, prefix, 'token-two'));
  assert.equal(await who(rotated, cookie), null);
  // …and that record is gone, not only refused.
  assert.equal(await who(before, cookie), null);
});

test("an open dashboard's anonymous session is worthless once a token is set", async () => {
  const open = server(new Sessions(redis, prefix));
  const cookie = await cookieFrom(open, '?anonymous=1');
  assert.equal(await who(open, cookie), ANONYMOUS);
  assert.equal(await who(server(new Sessions(redis, prefix, 'now-a-token')), cookie), null);
});

test('the cookie is HttpOnly and SameSite=Strict, Secure over HTTPS, and Redis holds only a hash of its id', async () => {
  const app = server(new Sessions(redis, prefix, 'token-one'));
  const plain = await app.inject({ method: 'POST', url: '/start' });
  assert.match(String(plain.headers['set-cookie']), /^labwatch_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=1209600$/);
  const proxied = await app.inject({ method: 'POST', url: '/start', headers: { 'x-forwarded-proto': 'https' } });
  assert.match(String(proxied.headers['set-cookie']), /; Secure$/);
  const id = String(plain.headers['set-cookie']).split(';')[0]!.split('=')[1]!;
  const stored = await redis.keys(`${prefix}:session:*`);
  assert.ok(stored.length > 0);
  assert.ok(stored.every((k) => !k.includes(id)));
  for (const k of stored) assert.ok(!(await redis.get(k))!.includes(id));
});
