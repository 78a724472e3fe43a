/**
 * The `proxmox:` block: where the cluster's API is, the API token (its secret named by file) and
 * how to trust the node's certificate. One labwatch reads every node through any one of them.
 */
import * as z from 'zod';
import { duration } from '../../config/parts.ts';
import { oneTrust, tlsKeys } from '../api-tls.ts';

const apiUrl = z.string().regex(/^https:\/\/[^\s/?#]+\/?$/, 'an https:// URL of a node, such as "https://pve1.lab:8006"');

export const proxmoxConfig = z
  .strictObject({
    /** any node (port 8006); a list is tried in order, for a node that is down */
    url: z.union([apiUrl, z.array(apiUrl).min(1)]),
    /** user@realm!tokenname, e.g. labwatch@pve!monitor */
    token_id: z.string().regex(/^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/, 'user@realm!tokenname, such as "labwatch@pve!monitor"'),
    /** file holding the token's secret (a UUID); env LABWATCH_PROXMOX_TOKEN_SECRET instead */
    token_secret_file: z.string().min(1).optional(),
    ...tlsKeys,
    /** how long one API call may take */
    timeout: duration.default('10s'),
  })
  .refine(oneTrust.check, oneTrust.params);

export type ProxmoxConfig = z.infer<typeof proxmoxConfig>;

export function urlsOf(c: { url: string | string[] }): string[] {
  return Array.isArray(c.url) ? c.url : [c.url];
}
