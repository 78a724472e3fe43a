/**
 * The `opnsense:` block: where the firewall's API is, the API key and secret (both named by file,
 * never written in the config), and how to trust its certificate (OPNsense ships a self-signed one).
 */
import * as z from 'zod';
import { duration } from '../../config/parts.ts';
import { oneTrust, tlsKeys } from '../api-tls.ts';

export const opnsenseConfig = z
  .strictObject({
    /** the web GUI's address, which also serves /api */
    url: z.string().regex(/^https:\/\/[^\s/?#]+\/?$/, 'an https:// URL of the firewall\'s web GUI, such as "https://fw.lab"'),
    /** file holding the API key (the "key=" line of the file OPNsense downloads); env LABWATCH_OPNSENSE_KEY instead */
    key_file: z.string().min(1).optional(),
    /** file holding the API secret (the "secret=" line); env LABWATCH_OPNSENSE_SECRET instead */
    secret_file: z.string().min(1).optional(),
    ...tlsKeys,
    /** how long one API call may take */
    timeout: duration.default('10s'),
  })
  .refine(oneTrust.check, oneTrust.params);

export type OpnsenseConfig = z.infer<typeof opnsenseConfig>;

/** The host name the observations carry: the firewall's, from its URL. */
export function opnsenseHost(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}
