/**
 * Data-protection tasks and apps: replication, cloud sync and periodic snapshot tasks with their
 * last run's state (kind `task`, subject `truenas-task:<type>/<name>`), and apps (kind `app`,
 * subject `truenas-app:<name>`). States as the middleware sets them: a replication's and a
 * snapshot task's `state.state` PENDING/RUNNING/FINISHED/ERROR/HOLD with `state.error`; a cloud
 * sync's last `job.state` SUCCESS/FAILED/ABORTED/RUNNING/WAITING with `job.error`; an app's
 * `state` RUNNING/DEPLOYING/STOPPED/STOPPING/CRASHED.
 */
import type { Observation } from '../types.ts';
import type { TnApp, TnCloudSync, TnReplication, TnSnapshotTask } from './read.ts';

const MAX_ERROR = 500;

interface TaskRow {
  type: 'replication' | 'cloud sync' | 'snapshot';
  name: string;
  id: number;
  enabled: boolean;
  state: string;
  error: string;
  last_run: string;
}

/** ERROR (replication, snapshot) and FAILED (a cloud sync job) are the failed runs. */
const taskFailed = (state: string) => state === 'ERROR' || state === 'FAILED';

export function taskRows(replications: TnReplication[] | undefined, syncs: TnCloudSync[] | undefined, snapshots: TnSnapshotTask[] | undefined): TaskRow[] {
  const rows: TaskRow[] = [];
  for (const r of replications ?? [])
    rows.push({ type: 'replication', name: r.name, id: r.id, enabled: r.enabled, state: (r.state?.state || r.job?.state || 'PENDING').toUpperCase(), error: r.state?.error || r.job?.error || '', last_run: r.state?.datetime ?? r.job?.time_finished ?? '' });
  for (const c of syncs ?? [])
    rows.push({ type: 'cloud sync', name: c.description || `#${c.id}`, id: c.id, enabled: c.enabled, state: (c.job?.state || 'NEVER RUN').toUpperCase(), error: c.job?.error ?? '', last_run: c.job?.time_finished ?? '' });
  for (const s of snapshots ?? [])
    rows.push({ type: 'snapshot', name: `${s.dataset} (${s.naming_schema || `#${s.id}`})`, id: s.id, enabled: s.enabled, state: (s.state?.state || 'PENDING').toUpperCase(), error: s.state?.error ?? '', last_run: s.state?.datetime ?? '' });
  return rows;
}

const SUBJECT_TYPE = { replication: 'replication', 'cloud sync': 'cloudsync', snapshot: 'snapshot' } as const;

export function taskObservations(rows: TaskRow[], host: string, at: string): Observation[] {
  return rows.map((t) => ({
    source: 'truenas',
    kind: 'task',
    // replication names are unique in TrueNAS; cloud sync descriptions need not be, so those go by id
    subject: `truenas-task:${SUBJECT_TYPE[t.type]}/${t.type === 'replication' ? t.name : `${t.id}`}`,
    host,
    at,
    values: { type: t.type, name: t.name, id: t.id, enabled: t.enabled, state: t.state, failed: taskFailed(t.state), error: t.error.slice(0, MAX_ERROR), last_run: t.last_run },
    summary: `${t.type} ${t.name}: ${t.state}${t.error ? ` (${t.error.slice(0, 120)})` : ''}`,
  }));
}

export function appObservations(apps: TnApp[], host: string, at: string): Observation[] {
  return apps.map((a) => ({
    source: 'truenas',
    kind: 'app',
    subject: `truenas-app:${a.name}`,
    host,
    at,
    values: { name: a.name, state: a.state.toUpperCase(), version: a.human_version || a.version, upgrade_available: a.upgrade_available ?? false },
    summary: `app ${a.name} ${a.state}`,
  }));
}
