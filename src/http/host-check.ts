/**
 * Which `Host` and `Origin` values may reach a loopback-bound labwatch's /mcp (DNS rebinding: a
 * page on attacker.example whose name is re-pointed at 127.0.0.1 still sends its own name).
 *
 * A name is accepted only when it is exactly one of: an IPv4 literal in 127.0.0.0/8 written as
 * four plain decimal octets, `::1`, `localhost`, or a configured name. Letter case does not
 * matter (DNS ignores it); nothing else is normalised. In particular a trailing dot is refused,
 * not stripped: `localhost.` and `127.0.0.1.` are other strings, and no client needs them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** lower-case; an IPv6 literal without its brackets */
  hostname: string;
  port?: number;
}

/** `host[:port]` as a Host header carries it (RFC 9110 §7.2), or null when it is anything else. */
export function parseHostHeader(value: string): HostPort | null {
  let name: string;
  let rest: string;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    name = value.slice(1, end);
    rest = value.slice(end + 1);
    if (!isIPv6(name)) return null;
  } else {
    // A name or IPv4 literal has no ':'; everything after the first one must be the port.
    const colon = value.indexOf(':');
    name = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
  }
  if (name === '') return null;
  if (rest === '') return { hostname: name.toLowerCase() };
  const digits = rest.slice(1);
  if (rest[0] !== ':' || !/^\d{1,5}$/.test(digits) || Number(digits) > 65535) return null;
  return { hostname: name.toLowerCase(), port: Number(digits) };
}

/**
 * An Origin header (a serialised origin, RFC 6454) as host and port, or null when it is not an
 * http(s) origin in exactly the form a browser sends: `null`, a path, `user:pass@`, a default
 * port spelled out or an IP in a non-canonical form (`127.1`) are all refused.
 */
export function parseOrigin(value: string): HostPort | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null; // "null" (sandboxed frames, file://) and other non-URLs
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // The WHATWG parser forgives much (userinfo, paths, 127.1, a dot after an IPv4); a browser's
  // Origin is already its own serialisation, so anything the parser had to rewrite is refused.
  if (url.origin !== value.toLowerCase()) return null;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return url.port ? { hostname, port: Number(url.port) } : { hostname };
}

/** 127.0.0.0/8 as four decimal octets (node's isIPv4 refuses `127.1`, `0x7f.0.0.1` and leading zeros), or ::1. */
export function isLoopbackIp(name: string): boolean {
  return (isIPv4(name) && name.startsWith('127.')) || name === '::1';
}

/**
 * Returns the check for a hostname from parseHostHeader or parseOrigin: loopback literals,
 * `localhost` and `configured` names (e.g. notify.public_url's host; brackets around an IPv6
 * literal are allowed there), compared whole.
 */
export function hostnameChecker(configured: string[]): (hostname: string) => boolean {
  const names = new Set(['localhost', ...configured.map((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1'))]);
  return (hostname) => names.has(hostname) || isLoopbackIp(hostname);
}
