/**
 * The `prometheus:` block of the configuration file. Secrets are named by file here and read
 * elsewhere (the config loader); PrometheusClient takes them as plain strings.
 */
import * as z from 'zod';
import { duration, httpAuth, oneAuth } from '../../config/parts.ts';

export const prometheusConfig = z
  .strictObject({
    /** Prometheus' base URL, with any --web.route-prefix: http://127.0.0.1:9090 or https://lab.example/prometheus */
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'an http:// or https:// URL such as "http://127.0.0.1:9090"'),
    /** How long one API call may take, connection included. */
    timeout: duration.default('10s'),
    ...httpAuth,
    /** Most series a query tool shows; the rest are counted, not listed. */
    max_series: z.number().int().min(1).max(1000).default(50),
    /** Most points per series a range query may ask for (Prometheus itself stops at 11,000). */
    max_points: z.number().int().min(2).max(11_000).default(500),
  })
  .refine(oneAuth.check, oneAuth.params);

export type PrometheusConfig = z.infer<typeof prometheusConfig>;
