/**
 * Pieces of the config schema that connectors' own blocks share with it: durations, and how
 * labwatch authenticates to an HTTP API (a bearer token or basic auth, secrets named by file).
 */
import * as z from 'zod';

export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "500ms", "30s", "5m", "4h" or "7d"');

/** "30s" → 30000. The schema has already checked the shape. */
export function ms(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** The keys of an HTTP API block that say how labwatch logs in (at most one of them). */
export const httpAuth = {
  /** file holding a bearer token (for a server behind an authenticating proxy, or with --web.config.file) */
  bearer_token_file: z.string().min(1).optional(),
  basic_auth: z
    .strictObject({
      username: z.string().min(1),
      password_file: z.string().min(1),
    })
    .optional(),
};

export const oneAuth = {
  check: (c: { bearer_token_file?: string | undefined; basic_auth?: unknown }) => !(c.bearer_token_file && c.basic_auth),
  params: { message: 'give bearer_token_file or basic_auth, not both', path: ['basic_auth'] },
};

/**
 * A secret a config block declares. `file` is the key (a dotted path inside the block) whose value
 * names the file holding the secret; `env` the environment variable that may carry it instead (the
 * environment wins, as in containers). The loader reads every declared secret; `check`, redaction
 * and the "not inline" hint derive from the same declaration.
 */
export interface SecretSpec {
  file: string;
  env: string;
  /**
   * `file` names a map (name → file) instead of one file, e.g. a webhook's `headers_files`: every
   * file in it is read and kept under `<file>.<name>` ("headers_files.Authorization"); `env` is
   * then a prefix, `<env>_<NAME>` (upper-cased, other characters "_") carrying one value.
   */
  each?: boolean;
  /** the block cannot work without it: what it is, for the error when neither the file nor the variable is given */
  required?: string;
}

/** The secrets of a block with `httpAuth` keys, carried by `<PREFIX>_TOKEN` / `<PREFIX>_PASSWORD` in the environment. */
export function httpAuthSecrets(envPrefix: string): SecretSpec[] {
  return [
    { file: 'bearer_token_file', env: `${envPrefix}_TOKEN` },
    { file: 'basic_auth.password_file', env: `${envPrefix}_PASSWORD` },
  ];
}

/** How an HTTP API client logs in, from a block's httpAuth keys and the secrets read for them. */
export function loginOf(block: { basic_auth?: { username: string } | undefined }, secrets: Record<string, string>) {
  const token = secrets['bearer_token_file'];
  const password = secrets['basic_auth.password_file'];
  return { ...(token ? { bearerToken: token } : {}), ...(block.basic_auth && password ? { basicAuth: { username: block.basic_auth.username, password } } : {}) };
}
