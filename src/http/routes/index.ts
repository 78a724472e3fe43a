/**
 * Every HTTP route module the daemon serves. Adding routes (the dashboard, `/api/*`) is a file
 * in this folder and a line here; what it needs joins HttpDeps by itself (DepsOf).
 */
import type { DepsOf } from '../route.ts';
import { act } from './act.ts';
import { askRoutes } from './ask.ts';
import { dashboard } from './dashboard.ts';
import { api } from './api.ts';
import { health } from './health.ts';
import { incidents } from './incidents.ts';
import { mcp } from './mcp.ts';
import { metrics } from './metrics.ts';
import { webhooks } from './webhooks.ts';

export const ROUTES = [webhooks, health, mcp, incidents, metrics, api, askRoutes, dashboard, act] as const;

/** What the daemon hands the routes: each module's deps, together. */
export type RoutesDeps = DepsOf<(typeof ROUTES)[number]>;
