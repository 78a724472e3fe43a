/**
 * The dashboard API's parts, from the daemon's: the read model, the live feed, the sessions,
 * labwatch's own status and the silencers. Kept out of daemon.ts, which only hands over what it built.
 */
import type { Redis } from 'ioredis';
import type { Silencer } from '../../connectors/types.ts';
import type { Incident } from '../../incidents/types.ts';
import type { Circuit } from '../../notify/circuit.ts';
import type { JobQueues } from '../../queue/index.ts';
import type { Logger } from '../../telemetry/log.ts';
import type { Watcher } from '../../watch/index.ts';
import type { DashboardApi } from '../routes/api.ts';
import { Sessions } from '../session.ts';
import { IncidentFeed } from './feed.ts';
import { DashboardReader, type ReadDeps } from './read.ts';
import type { StatusAnswer } from './types.ts';

/** The read model's stores (read.ts), and what the status and the silence action need besides. */
export interface DashboardParts extends Omit<ReadDeps, 'channels' | 'canSilence'> {
  redis: Redis;
  prefix: string;
  queues: JobQueues;
  circuits: Map<string, Circuit>;
  watcher: () => Watcher;
  silencers: Map<string, Silencer>;
  token?: string;
  /** a loopback bind, or a token: actions may be taken */
  writable: boolean;
  ai: { enabled: boolean; model?: string; local?: boolean };
  redisUp: () => boolean;
  version: string;
  host: string;
  log: Logger;
}

export function dashboardApi(p: DashboardParts): DashboardApi {
  const firingFrom = (incident: Incident, source: string) => Object.values(incident.anomalies).filter((a) => a.status === 'firing' && a.source === source);
  const reader = new DashboardReader({
    ...p,
    channels: [...p.circuits.keys()],
    canSilence: (incident) => [...p.silencers.keys()].some((source) => firingFrom(incident, source).length > 0),
  });
  const feed = new IncidentFeed({ changedSince: (ms) => p.store.changedSince(ms), row: (id) => reader.row(id) }, (e) => p.log.warn({ err: e.message }, 'dashboard feed: could not read changed incidents; retrying each second'));
  const startedAt = new Date().toISOString();
  const status = async (): Promise<StatusAnswer> => {
    const [queues, spend] = await Promise.all([p.queues.counts().catch(() => ({})), p.reports.spentOn(new Date()).catch(() => ({ usd: 0, investigations: 0 }))]);
    return {
      version: p.version,
      host: p.host,
      startedAt,
      collectors: p.watcher().lastRuns(),
      queues,
      channels: [...p.circuits].map(([name, c]) => {
        const waitMs = c.waitMs();
        return { name, circuit: waitMs > 0 ? 'open' : 'closed', waitMs };
      }),
      ai: { ...p.ai, spentTodayUsd: Math.round(spend.usd * 1e4) / 1e4, investigationsToday: spend.investigations },
      redis: { up: p.redisUp() },
      audit: { problem: p.audit.problem() },
    };
  };
  const silence = async (incident: Incident, durationMs: number, by: string) => {
    for (const [source, silencer] of p.silencers) {
      const alerts = firingFrom(incident, source);
      if (alerts.length === 0) continue;
      const made = await silencer(alerts, durationMs, `silenced from the labwatch dashboard by ${by} (incident ${incident.id})`, AbortSignal.timeout(15_000));
      if (made.length) return { id: made.map((m) => m.id).join(', '), until: made[0]!.until };
    }
    throw new Error('nothing to silence: no firing alert of this incident comes from a system that can silence it');
  };
  return {
    reader,
    actions: p.actions,
    feed,
    sessions: new Sessions(p.redis, p.prefix, p.token),
    audit: p.audit,
    ...(p.token ? { token: p.token } : {}),
    writable: p.writable,
    status,
    secrets: p.render.secrets ?? [],
    ...(p.silencers.size ? { silence } : {}),
  };
}
