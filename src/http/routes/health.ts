/** GET /healthz (the process answers) and /readyz (it can do its work), public for probes. */
import type { RouteModule } from '../route.ts';

/** A check returns null when fine, or what is wrong. */
type Check = () => Promise<string | null>;

export interface HealthDeps {
  /** A problem here makes /readyz answer 503. */
  readiness: Record<string, Check>;
  /** Listed under `warnings` without making /readyz 503 (e.g. the audit file): a daemon that still notifies is ready. */
  warnings?: Record<string, Check>;
}

/** The problems the checks report, by name; a check that throws reports its message. */
async function problems(checks: Record<string, Check>): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const problem = await check().catch((e: Error) => e.message);
      if (problem) found[name] = problem;
    }),
  );
  return found;
}

export const health: RouteModule<HealthDeps> = {
  name: 'health',
  register(app, deps) {
    app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { access: 'public' } }, async (_req, reply) => {
      const failing = await problems(deps.readiness);
      const warnings = await problems(deps.warnings ?? {});
      const ready = Object.keys(failing).length === 0;
      const also = Object.keys(warnings).length ? { warnings } : {};
      return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready', ...also } : { status: 'not ready', problems: failing, ...also });
    });
  },
};
