/**
 * Logging: pino, one JSON event per line on stderr (stdout is kept free for CLI output and
 * MCP over stdio). Secrets are redacted here, once, at the logger: known secret keys by path, and
 * every configured secret value and URL password wherever it appears in the serialized line.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = ['password', 'pass', 'token', 'apiKey', 'api_key', 'authorization', 'secrets'];

/** Replaces each secret value, and the password part of any URL, in a serialized log line. */
export function makeScrubber(secretValues: (string | undefined)[]): (line: string) => string {
  const values = secretValues.filter((v): v is string => typeof v === 'string' && v.length >= 4);
  return (line) => {
    let out = line.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@\s"/]+@/gi, '$1[REDACTED]@');
    for (const v of values) if (out.includes(v)) out = out.split(v).join('[REDACTED]');
    // A secret may also appear JSON-escaped inside the line.
    for (const v of values) {
      const escaped = JSON.stringify(v).slice(1, -1);
      if (escaped !== v && out.includes(escaped)) out = out.split(escaped).join('[REDACTED]');
    }
    return out;
  };
}

/**
 * `value` (a report, a digest) with every string, and every key, passed through a scrubber made
 * by makeScrubber: the same redaction as the log's, for data that leaves labwatch.
 */
export function scrubDeep<T>(value: T, secretValues: readonly (string | undefined)[]): T {
  const scrub = makeScrubber([...secretValues]);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export interface LogOptions {
  level?: string;
  secrets?: (string | undefined)[];
  /** Where lines go; defaults to stderr. Tests pass a collector to assert on what was logged. */
  destination?: { write(line: string): void };
}

export function createLogger(opts: LogOptions = {}): Logger {
  const scrub = makeScrubber(opts.secrets ?? []);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { app: 'labwatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'req.headers.authorization'],
        censor: '[REDACTED]',
      },
      hooks: { streamWrite: scrub },
    },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: false }),
  );
}
