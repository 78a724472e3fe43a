/**
 * How labwatch trusts a lab system's HTTPS certificate. Lab appliances ship self-signed
 * certificates, so the three homelab choices are: the system's own CA (`ca_file`), one pinned
 * certificate (`tls_fingerprint`, as the system or openssl prints it), or no check at all
 * (`tls_verify: false`, warned at start). Without any, the system CAs apply (a Let's Encrypt node).
 *
 * The check runs before the connection is handed to the request, so the API token is never sent
 * to a server that failed it; a failure names the fingerprint seen and how to pin it.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import * as z from 'zod';

const FINGERPRINT = /^(?:sha256[\s:/]+)?((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i;

/** The keys a lab system's block takes for TLS (spread into its zod object). */
export const tlsKeys = {
  /** PEM file of the CA that signed the server's certificate */
  ca_file: z.string().min(1).optional(),
  /** the server certificate's SHA-256 fingerprint, "AB:CD:…" (optionally "sha256 AB:CD:…") */
  tls_fingerprint: z
    .string()
    .regex(FINGERPRINT, 'a SHA-256 fingerprint: 32 hex bytes such as "sha256 AB:CD:…"')
    .optional(),
  /** false: accept any certificate (the connection is still encrypted, but anyone on the path can read the token) */
  tls_verify: z.boolean().default(true),
};

/** At most one way to trust the server (for `.refine` on the block). */
export const oneTrust = {
  check: (c: { ca_file?: string | undefined; tls_fingerprint?: string | undefined; tls_verify?: boolean }) =>
    [c.ca_file, c.tls_fingerprint, c.tls_verify === false ? 'off' : undefined].filter(Boolean).length <= 1,
  params: { message: 'give one of ca_file, tls_fingerprint or tls_verify: false, not several', path: ['tls_fingerprint'] },
};

/** Where a system keeps its CA certificate and shows its fingerprint, for the errors' "what to do". */
export interface TrustHints {
  ca?: string;
  fingerprint?: string;
}

export interface TlsTrust {
  ca_file?: string | undefined;
  tls_fingerprint?: string | undefined;
  tls_verify?: boolean | undefined;
}

/** "sha256 ab:cd…" or "abcd…" → "AB:CD:…", the form Node and openssl print. */
function normalFingerprint(f: string): string {
  const hex = FINGERPRINT.exec(f.trim())?.[1]?.replace(/:/g, '').toUpperCase();
  if (!hex) throw new Error(`not a SHA-256 fingerprint: ${f}`);
  return hex.match(/../g)!.join(':');
}

/** Why a certificate was refused: the message names what to change under `<block>:`. */
export class TlsTrustError extends Error {
  override readonly name = 'TlsTrustError';
  constructor(
    message: string,
    readonly seen: string | undefined,
  ) {
    super(message);
  }
}

/**
 * An https Agent that checks the certificate as `trust` says before any byte of the request is
 * written. `block` is the config key for the hints ("proxmox"); `hints` say, in the system's own
 * words, where its CA certificate and its fingerprint are found.
 */
export function trustingAgent(trust: TlsTrust, block: string, hints: TrustHints = {}): Agent {
  const caWhere = hints.ca ? ` (${hints.ca})` : '';
  let ca: Buffer | undefined;
  if (trust.ca_file) {
    try {
      ca = readFileSync(trust.ca_file);
    } catch (e) {
      throw new Error(`${block}.ca_file ${trust.ca_file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); copy the CA certificate there${caWhere} or pin the certificate with tls_fingerprint`);
    }
  }
  const pinned = trust.tls_fingerprint ? normalFingerprint(trust.tls_fingerprint) : undefined;
  const verify = trust.tls_verify !== false;
  const agent = new Agent({ keepAlive: true, maxSockets: 4, maxCachedSessions: 0 });
  // Verification is done here, not by rejectUnauthorized, so that a refused certificate can be
  // named by its fingerprint; the request gets the socket only once it passed.
  (agent as unknown as { createConnection: unknown }).createConnection = (options: ConnectionOptions, done: (err: Error | null, s?: Duplex) => void) => {
    const socket: TLSSocket = connect({ ...options, ...(ca ? { ca } : {}), rejectUnauthorized: false });
    const fail = (e: Error) => {
      socket.destroy();
      done(e);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      const seen = socket.getPeerCertificate()?.fingerprint256;
      const where = `${options.host ?? options.servername}:${options.port}`;
      if (pinned) {
        if (seen === pinned) return done(null, socket);
        return fail(
          new TlsTrustError(
            `${where} presented a certificate with SHA-256 fingerprint ${seen ?? '(none)'}, not the pinned ${block}.tls_fingerprint ${pinned}: the certificate was renewed or this is not the server you meant. Compare with ${hints.fingerprint ?? "the certificate the system's web interface shows"} and update tls_fingerprint`,
            seen,
          ),
        );
      }
      if (!verify || socket.authorized) return done(null, socket);
      fail(
        new TlsTrustError(
          `${where}'s certificate is not trusted (${String(socket.authorizationError)}); its SHA-256 fingerprint is ${seen ?? '(none)'}. If that is your server, pin it with ${block}.tls_fingerprint: "${seen}", or give the CA that signed it with ${block}.ca_file${caWhere}`,
          seen,
        ),
      );
    });
    return undefined;
  };
  return agent;
}

/**
 * One reader per config block, made on first use and shared by the collectors, the tools and the
 * probe (one connection, one cache). `secrets` are the block's declared secret keys, each with its
 * environment variable for the error; a block with `tls_verify: false` is warned about once, here.
 */
export function readerPerBlock<B extends TlsTrust, R>(
  name: string,
  secrets: { file: string; env: string }[],
  make: (block: B, values: string[]) => R,
): (ctx: { block: B | undefined; secrets: Record<string, string>; log: { warn(o: object, msg: string): void } }) => R {
  const readers = new WeakMap<object, R>();
  return ({ block, secrets: values, log }) => {
    let r = readers.get(block!);
    if (!r) {
      if (block!.tls_verify === false)
        log.warn({ connector: name }, `${name}.tls_verify is false: any certificate is accepted, so anyone on the path can read its credentials; pin the certificate with tls_fingerprint instead`);
      const missing = secrets.find((s) => !values[s.file]);
      if (missing) throw new Error(`${name}: set ${name}.${missing.file} to a file holding the secret, or ${missing.env}`);
      readers.set(block!, (r = make(block!, secrets.map((s) => values[s.file]!))));
    }
    return r;
  };
}
