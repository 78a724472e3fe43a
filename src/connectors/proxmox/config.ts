/**
 * The `proxmox:` block: where the cluster's API is, the API token (its secret named by file) and
 * how to trust the node's certificate. One labwatch reads every node through any one of them.
 */
import * as z from 'zod';
import { duration } from '../../config/parts.ts';
import { oneTrust, tlsKeys } from '../api-tls.ts';
import { cron } from '../watch-parts.ts';

/** Infrastructure as code compared with the cluster (iac/): where the code is, how often drift is checked. */
const iacConfig = z
  .strictObject({
    /** folders or files of Terraform / Ansible code; the iac_drift tool reads nothing outside them; empty = off */
    paths: z.array(z.string().min(1)).default([]),
    /** when the proxmox-iac collector compares them with the cluster */
    schedule: cron.default('23 * * * *'),
  })
  .prefault({});

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
    iac: iacConfig,
  })
  .refine(oneTrust.check, oneTrust.params);

export type ProxmoxConfig = z.infer<typeof proxmoxConfig>;

export function urlsOf(c: { url: string | string[] }): string[] {
  return Array.isArray(c.url) ? c.url : [c.url];
}
