/**
 * The `proxmox_backup:` block: where the Proxmox Backup Server's API is, the API token (its secret
 * named by file), how to trust its certificate, and how old a backup may get before it is reported.
 */
import * as z from 'zod';
import { duration } from '../../config/parts.ts';
import { oneTrust, tlsKeys } from '../api-tls.ts';

/** "vm/9000", "host/laptop", or one datastore's "main/vm/9000" */
const groupPath = z.string().regex(/^(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)?(?:vm|ct|host)\/[^\s/]+$/, 'a backup group such as "vm/9000" or "host/laptop" (or "<datastore>/vm/9000" for one datastore only)');

export const pbsConfig = z
  .strictObject({
    /** the server, port 8007 */
    url: z.string().regex(/^https:\/\/[^\s/?#]+\/?$/, 'an https:// URL of the server, such as "https://pbs.lab:8007"'),
    /** user@realm!tokenname, e.g. labwatch@pbs!monitor */
    token_id: z.string().regex(/^[^\s@!:]+@[^\s@!:]+![A-Za-z0-9][A-Za-z0-9._-]*$/, 'user@realm!tokenname, such as "labwatch@pbs!monitor"'),
    /** file holding the token's secret (a UUID); env LABWATCH_PBS_TOKEN_SECRET instead */
    token_secret_file: z.string().min(1).optional(),
    ...tlsKeys,
    /** how long one API call may take */
    timeout: duration.default('10s'),
    /** a backup group whose newest snapshot is older than this is reported (twice as old: critical) */
    max_backup_age: duration.default('36h'),
    /** backup groups not judged by age: templates, a laptop that is often away */
    ignore: z.array(groupPath).default([]),
  })
  .refine(oneTrust.check, oneTrust.params);

export type PbsConfig = z.infer<typeof pbsConfig>;

/** The host name the observations carry: the server's, from its URL. */
export function pbsHost(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/** Whether `ignore` names this group ("vm/9000", or "main/vm/9000" for datastore main only). */
export function isIgnored(ignore: string[], store: string, type: string, id: string): boolean {
  return ignore.includes(`${type}/${id}`) || ignore.includes(`${store}/${type}/${id}`);
}
