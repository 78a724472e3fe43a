/**
 * The `prometheus:` block of the configuration file. Secrets are named by file here and read
 * elsewhere (the config loader); PrometheusClient takes them as plain strings.
 */
import * as z from 'zod';

/** The same shape as `duration` in src/config/schema.ts. */
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as "500ms", "30s", "5m", "4h" or "7d"');

export const prometheusConfig = z
  .strictObject({
    /** Prometheus' base URL, with any --web.route-prefix: http://127.0.0.1:9090 or https://lab.example/prometheus */
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'an http:// or https:// URL such as "http://127.0.0.1:9090"'),
    /** How long one API call may take, connection included. */
    timeout: duration.default('10s'),
    /** File holding a bearer token (for a Prometheus behind an authenticating proxy or with --web.config.file). */
    bearer_token_file: z.string().min(1).optional(),
    basic_auth: z
      .strictObject({
        username: z.string().min(1),
        password_file: z.string().min(1),
      })
      .optional(),
    /** Most series a query tool shows; the rest are counted, not listed. */
    max_series: z.number().int().min(1).max(1000).default(50),
    /** Most points per series a range query may ask for (Prometheus itself stops at 11,000). */
    max_points: z.number().int().min(2).max(11_000).default(500),
  })
  .refine((c) => !(c.bearer_token_file && c.basic_auth), {
    message: 'give bearer_token_file or basic_auth, not both',
    path: ['basic_auth'],
  });

export type PrometheusConfig = z.infer<typeof prometheusConfig>;
