/**
 * Signed links that act on one incident from a message: "Acknowledge" and "Snooze 24 h" as ntfy
 * buttons and email links. A token is `base64url(payload).base64url(MAC)`; the payload names the
 * incident, the action, its expiry and a random nonce. The key is 32 random bytes made
 * once in Redis (SET NX), so every labwatch on that Redis signs and checks with the same one; it
 * is never logged. A token acts once: its nonce is recorded (SET NX, until the expiry) at the
 * first use, and a replay is refused.
 *
 * Keys: the notify families linkkey and linkused in keys.ts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keysOf, type StageKeys } from '../keys.ts';
import type { MessageAction } from './notifier.ts';

export type LinkAction = 'acknowledge' | 'snooze';

/** What a link does. */
export interface LinkClaim {
  incident: string;
  action: LinkAction;
  /** how long a snooze lasts */
  snoozeMs?: number;
}

/** Why a link is refused: not ours (or altered), past its expiry, or used already. */
export type LinkRefusal = 'forged' | 'expired' | 'used';

export type LinkUse = { ok: true; claim: LinkClaim & { nonce: string } } | { ok: false; reason: LinkRefusal };

/** How long a link in a message works. */
const LINK_TTL_MS = 7 * 86_400_000;
/** The snooze a message offers. */
const SNOOZE_LINK_MS = 86_400_000;
/**
 * `payload.mac`, both base64url. The payload is binary, so a token fits the router's 100-character
 * path parameters: kind (1 byte: 1 acknowledge, 2 snooze), expiry (uint32 seconds), nonce (9
 * bytes), snooze (uint16 minutes), then the incident id. The MAC is HMAC-SHA256 cut to 128 bits.
 */
const TOKEN = /^([A-Za-z0-9_-]{23,75})\.([A-Za-z0-9_-]{22})$/;
const MAX_TOKEN_CHARS = 100;
const HEAD_BYTES = 16;
const MAC_BYTES = 16;
/** Binds the MAC to this use, so the key could sign something else one day without confusion. */
const DOMAIN = 'labwatch-act-v1.';
const KIND = { acknowledge: 1, snooze: 2 } as const;

export class ActionLinks {
  readonly #key: StageKeys<'notify'>;
  #secret: Promise<Buffer> | undefined;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.#key = keysOf(prefix, 'notify');
  }

  /** The shared key: made by whichever labwatch asks first, then read by all. */
  #hmacKey(): Promise<Buffer> {
    this.#secret ??= (async () => {
      const key = this.#key('linkkey');
      await this.redis.set(key, randomBytes(32).toString('base64'), 'NX');
      const stored = await this.redis.get(key);
      if (!stored) throw new Error(`notify: the link signing key ${key} vanished from Redis right after it was made; try again`);
      return Buffer.from(stored, 'base64');
    })().catch((e: unknown) => {
      this.#secret = undefined; // Redis away: the next call tries again
      throw e;
    });
    return this.#secret;
  }

  #mac(key: Buffer, payload: string): string {
    return createHmac('sha256', key).update(DOMAIN + payload).digest().subarray(0, MAC_BYTES).toString('base64url');
  }

  /** A token for `claim`, valid for `ttlMs` from `now`. */
  async sign(claim: LinkClaim, ttlMs = LINK_TTL_MS, now = Date.now()): Promise<string> {
    const id = Buffer.from(claim.incident, 'utf8');
    const minutes = claim.action === 'snooze' ? Math.round((claim.snoozeMs ?? 0) / 60_000) : 0;
    if (id.length === 0 || id.length > 40 || minutes > 0xffff) throw new Error(`notify: cannot sign a link for incident "${claim.incident}" (${claim.action}): id or snooze out of range`);
    const head = Buffer.alloc(HEAD_BYTES);
    head.writeUInt8(KIND[claim.action], 0);
    head.writeUInt32BE(Math.max(0, Math.floor((now + ttlMs) / 1000)), 1);
    randomBytes(9).copy(head, 5);
    head.writeUInt16BE(minutes, 14);
    const payload = Buffer.concat([head, id]).toString('base64url');
    return `${payload}.${this.#mac(await this.#hmacKey(), payload)}`;
  }

  /** What a token claims, if it is ours and not expired (used or not); nothing is recorded. */
  async check(token: string, now = Date.now()): Promise<{ ok: true; claim: LinkClaim & { nonce: string; exp: number } } | { ok: false; reason: LinkRefusal }> {
    const m = typeof token === 'string' && token.length <= MAX_TOKEN_CHARS ? TOKEN.exec(token) : null;
    if (!m) return { ok: false, reason: 'forged' };
    const expected = Buffer.from(this.#mac(await this.#hmacKey(), m[1]!));
    const given = Buffer.from(m[2]!);
    // Compared as the encoded strings: base64url's spare bits cannot make two spellings of one MAC.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
    const claim = parsePayload(m[1]!);
    if (!claim) return { ok: false, reason: 'forged' };
    if (claim.exp <= now) return { ok: false, reason: 'expired' };
    return { ok: true, claim };
  }

  /** Checks the token and records its use; a second use is refused as 'used'. */
  async use(token: string, now = Date.now()): Promise<LinkUse> {
    const checked = await this.check(token, now);
    if (!checked.ok) return checked;
    const { exp, ...claim } = checked.claim;
    const first = await this.redis.set(this.#key('linkused', claim.nonce), `${claim.action} ${claim.incident}`, 'PX', Math.max(1, exp - now), 'NX');
    return first === 'OK' ? { ok: true, claim } : { ok: false, reason: 'used' };
  }

  /** Whether the token was used already (the confirm page says so instead of offering a button). */
  async used(nonce: string): Promise<boolean> {
    return (await this.redis.exists(this.#key('linkused', nonce))) === 1;
  }

  /** Gives a use back when acting failed for a reason the person did not cause (Redis away), so the link can be tried again. */
  async release(nonce: string): Promise<void> {
    await this.redis.del(this.#key('linkused', nonce));
  }

  /** The Acknowledge and Snooze 24 h actions for a message about `incident`, under notify.public_url. */
  async actionsFor(incident: string, publicUrl: string, now = Date.now()): Promise<MessageAction[]> {
    const base = publicUrl.replace(/\/+$/, '');
    const make = async (label: string, claim: LinkClaim): Promise<MessageAction> => {
      const token = await this.sign(claim, LINK_TTL_MS, now);
      return { label, url: `${base}/api/act/${token}`, confirm: `${base}/act/${token}` };
    };
    return [await make('Acknowledge', { incident, action: 'acknowledge' }), await make('Snooze 24 h', { incident, action: 'snooze', snoozeMs: SNOOZE_LINK_MS })];
  }
}

function parsePayload(encoded: string): (LinkClaim & { nonce: string; exp: number }) | null {
  const b = Buffer.from(encoded, 'base64url');
  if (b.length <= HEAD_BYTES) return null;
  const kind = b.readUInt8(0);
  const minutes = b.readUInt16BE(14);
  const incident = b.subarray(HEAD_BYTES).toString('utf8');
  const common = { incident, nonce: b.subarray(5, 14).toString('base64url'), exp: b.readUInt32BE(1) * 1000 };
  if (kind === KIND.acknowledge && minutes === 0) return { ...common, action: 'acknowledge' };
  if (kind === KIND.snooze && minutes > 0) return { ...common, action: 'snooze', snoozeMs: minutes * 60_000 };
  return null;
}
