/**
 * One poll of a Proxmox Backup Server: each datastore's usage (with PBS's own estimate of when it
 * is full), each backup group's newest backup and whether it verified, and the jobs that failed.
 * A datastore whose groups cannot be read is reported by name (`collector:proxmox_backup/<store>`)
 * and the others are still read.
 */
import { ApiError } from '../api-client.ts';
import type { Collector, Observation } from '../types.ts';
import { isIgnored } from './config.ts';
import type { Datastore, DatastoreUsage, Group, PbsReader, PbsTask } from './read.ts';
import { DAY_S, lastGcByStore, storeOf, taskObservations, TaskLogs } from './tasks.ts';

/** Groups whose verify state is read one by one up to this many per datastore; more, and the datastore's list is read once. */
const PER_GROUP_MAX = 5;
/** A group not verified yet is looked at again after this long (a verify job or verify-new may have run). */
const UNVERIFIED_RECHECK_MS = 3600_000;

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);

/** 30 h → "30 hours"; 75 h → "3 days 3 hours" */
export function ageText(hours: number): string {
  if (hours < 48) return `${Math.round(hours)} hours`;
  const days = Math.floor(hours / 24);
  const rest = Math.round(hours - days * 24);
  return rest >= 1 ? `${days} days ${rest} hour${rest === 1 ? '' : 's'}` : `${days} days`;
}

function datastoreObservation(u: DatastoreUsage, cfg: Datastore | undefined, gc: { status: string } | undefined, host: string, now: Date): Observation {
  const values: Record<string, unknown> = { name: u.store, error: (u.error ?? '').trim(), maintenance: cfg?.maintenance ?? '', comment: cfg?.comment ?? '' };
  const total = u.total ?? 0;
  if (total > 0) {
    const used = u.used ?? 0;
    Object.assign(values, { total_bytes: total, used_bytes: used, avail_bytes: u.avail !== undefined && u.avail !== null && u.avail >= 0 ? u.avail : total - used, used_pct: pct(used, total) });
  }
  // PBS's linear fit over the last month; 0 or a date in the past means usage does not grow
  const full = u['estimated-full-date'] ?? 0;
  const nowS = now.getTime() / 1000;
  values.estimated_full = full > nowS ? new Date(full * 1000).toISOString().slice(0, 10) : '';
  if (full > nowS) values.days_to_full = Math.round(((full - nowS) / DAY_S) * 10) / 10;
  if (gc) values.gc_last_state = gc.status;
  if (u['mount-status']) values.mount_status = u['mount-status'];
  const state = values.error ? `ERROR: ${String(values.error)}` : `${values.used_pct ?? '?'} % used${values.estimated_full ? ` · full around ${String(values.estimated_full)}` : ''}`;
  return { source: 'proxmox_backup', kind: 'datastore', subject: `pbs-datastore:${u.store}`, host, at: now.toISOString(), values, summary: `datastore ${u.store} · ${state}`, trend: 'used_pct' };
}

export interface GroupJudgement {
  maxAgeHours: number;
  ignore: string[];
}

function groupObservation(store: string, g: Group, lastVerify: string, j: GroupJudgement, host: string, now: Date): Observation {
  const type = g['backup-type'];
  const id = g['backup-id'];
  const ageHours = Math.max(0, Math.round(((now.getTime() / 1000 - g['last-backup']) / 3600) * 10) / 10);
  const comment = (g.comment ?? '').trim();
  const values = {
    store,
    backup_type: type,
    backup_id: id,
    last_backup: new Date(g['last-backup'] * 1000).toISOString(),
    age_hours: ageHours,
    age_text: ageText(ageHours),
    max_age_hours: j.maxAgeHours,
    ignored: isIgnored(j.ignore, store, type, id),
    count: g['backup-count'],
    comment,
    owner: g.owner ?? '',
    last_verify: lastVerify,
  };
  const guest = type === 'vm' || type === 'ct' ? `${type}:${id}` : undefined;
  return {
    source: 'proxmox_backup',
    kind: 'backup_group',
    subject: `pbs-backup:${store}/${type}/${id}`,
    host,
    at: now.toISOString(),
    values,
    // a stale backup of a guest joins the guest's incident (the Proxmox VE connector's vm:<id> / ct:<id>)
    ...(guest ? { group: guest } : {}),
    summary: `${type} ${id}${comment ? ` (${comment})` : ''} on ${store} · last backup ${ageText(ageHours)} ago · ${g['backup-count']} snapshots${lastVerify ? ` · verify ${lastVerify}` : ''}`,
  };
}

/** The verify state of each group's newest snapshot, re-read only when it may have changed. */
class VerifyStates {
  readonly #known = new Map<string, { lastBackup: number; state: string; readAt: number }>();

  /**
   * Fills in `states` for the groups of `store`; a group is re-read when its newest backup changed,
   * a verify job on the datastore ended since the last poll (`verifyRan`), or it was not verified an hour ago.
   */
  async read(reader: PbsReader, store: string, groups: Group[], verifyRan: boolean, now: Date, signal?: AbortSignal): Promise<Map<string, string>> {
    const key = (type: string, id: string) => `${store}/${type}/${id}`;
    const stale = groups.filter((g) => {
      const k = this.#known.get(key(g['backup-type'], g['backup-id']));
      return !k || verifyRan || k.lastBackup !== g['last-backup'] || (k.state === '' && now.getTime() - k.readAt >= UNVERIFIED_RECHECK_MS);
    });
    if (stale.length > PER_GROUP_MAX) this.#remember(store, groups, await reader.snapshots(store, undefined, signal), now);
    else for (const g of stale) this.#remember(store, [g], await reader.snapshots(store, { type: g['backup-type'], id: g['backup-id'] }, signal), now);
    return new Map(groups.map((g) => [key(g['backup-type'], g['backup-id']), this.#known.get(key(g['backup-type'], g['backup-id']))?.state ?? '']));
  }

  #remember(store: string, groups: Group[], snapshots: Awaited<ReturnType<PbsReader['snapshots']>>, now: Date) {
    const newest = new Map<string, (typeof snapshots)[number]>();
    for (const s of snapshots) {
      const k = `${s['backup-type']}/${s['backup-id']}`;
      const have = newest.get(k);
      if (!have || s['backup-time'] > have['backup-time']) newest.set(k, s);
    }
    for (const g of groups) {
      const s = newest.get(`${g['backup-type']}/${g['backup-id']}`);
      this.#known.set(`${store}/${g['backup-type']}/${g['backup-id']}`, { lastBackup: g['last-backup'], state: s?.verification?.state ?? '', readAt: now.getTime() });
    }
  }
}

export function pbsCollector(opts: { reader: PbsReader; host: string; judge: GroupJudgement; clock?: () => number }): Collector {
  const { reader, host } = opts;
  const logs = new TaskLogs();
  const verify = new VerifyStates();
  let lastPollS = 0;
  return {
    name: 'proxmox_backup',
    collect: async (signal) => {
      const now = new Date((opts.clock ?? Date.now)());
      const nowS = Math.floor(now.getTime() / 1000);
      const at = now.toISOString();
      const errors = new Map<string, string>();
      const note = (what: string, e: unknown) => {
        if (signal.aborted) throw e;
        errors.set(what, (e as Error).message);
        return undefined;
      };
      // the usage list is the poll: if it cannot be read, nothing can (the collector fails as a whole)
      const usage = await reader.usage(signal);
      const configs = (await reader.datastores(signal).catch((e: unknown) => note('datastores', e))) ?? [];
      const tasks: PbsTask[] = (await reader.tasks({ since: nowS - 2 * DAY_S }, signal).catch((e: unknown) => note('tasks', e))) ?? [];
      const gcs = lastGcByStore(tasks);
      const out: Observation[] = [];
      for (const u of usage) {
        const cfg = configs.find((c) => c.store === u.store);
        out.push(datastoreObservation(u, cfg, gcs.get(u.store), host, now));
        // a datastore PBS cannot open (or one in maintenance) has no groups to read: its error is the datastore's
        if (u.error || /offline/.test(cfg?.maintenance ?? '') || u['mount-status'] === 'notmounted') continue;
        try {
          const groups = await reader.groups(u.store, signal);
          const verifyRan = tasks.some((t) => t.worker_type.startsWith('verif') && storeOf(t) === u.store && (t.endtime ?? 0) > lastPollS);
          const states = await verify.read(reader, u.store, groups, verifyRan, now, signal).catch((e: unknown) => {
            note(u.store, e);
            return new Map<string, string>();
          });
          for (const g of groups) out.push(groupObservation(u.store, g, states.get(`${u.store}/${g['backup-type']}/${g['backup-id']}`) ?? '', opts.judge, host, now));
        } catch (e) {
          note(u.store, e);
        }
        out.push(collectorObservation(u.store, errors.get(u.store), host, at));
      }
      out.push(...(await taskObservations(reader, logs, tasks, host, now, signal, (e) => note('tasks', e))));
      out.push(collectorObservation('tasks', errors.get('tasks'), host, at));
      out.push(collectorObservation('datastores', errors.get('datastores'), host, at));
      lastPollS = nowS;
      return out;
    },
  };
}

function collectorObservation(what: string, error: string | undefined, host: string, at: string): Observation {
  return { source: 'proxmox_backup', kind: 'collector', subject: `collector:proxmox_backup/${what}`, host, at, values: { ok: error === undefined, error: error ?? '' } };
}

/** Whether an error is the token lacking a privilege (for `check`). */
export const refused = (e: unknown): e is ApiError => e instanceof ApiError && e.kind === 'forbidden';
