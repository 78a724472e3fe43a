/**
 * POST /webhook/<path> for each webhook intake. A delivery is answered 200 only once its
 * anomalies are committed to Redis, 503 (which Alertmanager retries) when they cannot be, and 400
 * with the field and the problem (never retried) for a bad payload. Behind the token only: the
 * senders are on other machines and name labwatch as they like.
 */
import { PayloadError, type WebhookIntake } from '../../connectors/types.ts';
import { TRUNCATED_WHAT } from '../../connectors/limits.ts';
import type { Intake } from '../../incidents/intake.ts';
import type { Logger } from '../../telemetry/log.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { errorBody, type RouteModule } from '../route.ts';

export interface WebhookDeps {
  intakes: WebhookIntake[];
  intake: Intake;
  metrics: Metrics;
  log: Logger;
}

/**
 * A payload is committed this many anomalies at a time, in order, before the answer: each Redis
 * call stays small (a 40,000-alert body in one call failed as if Redis were down) and repeats of
 * the part already committed are no-ops if the sender retries after a failure half-way.
 */
const ACCEPT_CHUNK = 1000;

export const webhooks: RouteModule<WebhookDeps> = {
  name: 'webhooks',
  register(app, deps) {
    for (const intake of deps.intakes) {
      const source = intake.source;
      for (const what of TRUNCATED_WHAT) deps.metrics.webhookTruncated.inc({ source, what }, 0);
      app.post(`/webhook/${intake.path}`, { config: { access: 'token', source, hints: intake.hints } }, async (req, reply) => {
        let anomalies;
        const cuts = new Map<string, number>();
        const onTruncated = (what: string, n: number) => {
          deps.metrics.webhookTruncated.inc({ source, what }, n);
          cuts.set(what, (cuts.get(what) ?? 0) + n);
        };
        try {
          anomalies = intake.parse(req.body, onTruncated);
          // The parsed body (up to body_limit_bytes of JSON objects) is not needed while Redis answers.
          req.body = undefined;
        } catch (err) {
          if (!(err instanceof PayloadError)) throw err;
          deps.metrics.webhookRequests.inc({ source, outcome: 'invalid' });
          deps.log.warn({ source, remote: req.ip, err: err.message }, 'webhook payload refused');
          return reply.code(400).send(errorBody(err.message));
        }
        if (cuts.size) deps.log.warn({ source, remote: req.ip, cut: Object.fromEntries(cuts) }, 'webhook: values over the size limits were cut or left out (see labwatch_webhook_truncated_total)');
        try {
          const incidents = new Set<string>();
          for (let i = 0; i < anomalies.length; i += ACCEPT_CHUNK) {
            for (const c of await deps.intake.accept(anomalies.slice(i, i + ACCEPT_CHUNK))) incidents.add(c.incidentId);
          }
          deps.metrics.webhookRequests.inc({ source, outcome: 'accepted' });
          return reply.send({ status: 'ok', anomalies: anomalies.length, incidents: [...incidents] });
        } catch (err) {
          deps.metrics.webhookRequests.inc({ source, outcome: 'unavailable' });
          deps.log.error({ source, err: (err as Error).message }, 'webhook not stored: Redis unavailable; answering 503 so the sender retries');
          return reply
            .code(503)
            .header('Retry-After', '10')
            .send(errorBody('cannot store the alerts right now (Redis unavailable)', 'nothing was lost: the sender should retry'));
        }
      });
    }
  },
};
