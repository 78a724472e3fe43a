/**
 * The `truenas:` block: where the NAS's JSON-RPC WebSocket API is, the service account and its API
 * key (by file), and how to trust the NAS's certificate (as for Proxmox).
 */
import * as z from 'zod';
import { duration } from '../../config/parts.ts';
import { oneTrust, tlsKeys } from '../api-tls.ts';

const HINT = 'the NAS, such as "wss://nas.lab/api/current" or "https://nas.lab"';

/** "https://nas.lab" → "wss://nas.lab/api/current"; a pinned "/api/v25.04.2" is kept. */
function apiUrl(raw: string): string | undefined {
  const m = /^(wss|https):\/\/([^\s/?#]+)(\/api\/(?:current|v[0-9][0-9A-Za-z.-]*))?\/?$/.exec(raw.trim());
  return m ? `wss://${m[2]}${m[3] ?? '/api/current'}` : undefined;
}

export const truenasConfig = z
  .strictObject({
    /** wss://<nas>/api/current (https://<nas> is turned into it) */
    url: z.string().transform((v, ctx) => {
      const url = apiUrl(v);
      if (url) return url;
      ctx.addIssue({ code: 'custom', message: `${HINT}; plain ws:// and http:// would send the API key unencrypted` });
      return z.NEVER;
    }),
    /** the service account the API key belongs to (a group with the READONLY_ADMIN privilege) */
    username: z.string().min(1).max(64).regex(/^[^\s]+$/, 'a TrueNAS user name, such as "labwatch"'),
    /** file holding the API key; env LABWATCH_TRUENAS_API_KEY instead */
    api_key_file: z.string().min(1).optional(),
    ...tlsKeys,
    /** how long one API call may take */
    timeout: duration.default('10s'),
  })
  .refine(oneTrust.check, oneTrust.params);

export type TruenasConfig = z.infer<typeof truenasConfig>;
