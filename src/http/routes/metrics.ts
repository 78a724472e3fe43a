/** GET /metrics in the Prometheus text format, public as scrapers expect. */
import type { Metrics } from '../../telemetry/metrics.ts';
import type { RouteModule } from '../route.ts';

export interface MetricsDeps {
  metrics: Metrics;
}

export const metrics: RouteModule<MetricsDeps> = {
  name: 'metrics',
  register(app, deps) {
    app.get('/metrics', { config: { access: 'public' } }, async (_req, reply) => {
      reply.header('Content-Type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });
  },
};
