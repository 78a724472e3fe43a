/** Proxmox Backup Server diagnostic tools, over the reader the collector uses: datastores, backups per group, tasks. */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import { apiGuarded as guarded } from '../api-client.ts';
import { ageText, type GroupJudgement } from './collect.ts';
import { isIgnored } from './config.ts';
import type { PbsReader, Snapshot } from './read.ts';
import { isOkStatus as isOk } from '../task-outcomes.ts';
import { finished, jobOf, TaskLogs } from './tasks.ts';

const MAX_ROWS = 100;
const MAX_TAILS = 5;

const gib = (b: number | null | undefined) => (typeof b === 'number' ? `${Math.round((b / 2 ** 30) * 10) / 10} GiB` : '?');
const iso = (s: number) => new Date(s * 1000).toISOString();

/** A UPID's start time: UPID:node:pid:pstart:task_id:starttime:type:id:user: (hex fields). */
function upidStart(upid: string | null | undefined): string | undefined {
  const hex = upid?.split(':')[5];
  return hex && /^[0-9A-Fa-f]+$/.test(hex) ? iso(parseInt(hex, 16)) : undefined;
}


export function pbsTools(reader: PbsReader, judge: GroupJudgement, now: () => number = Date.now): ToolSpec[] {
  const logs = new TaskLogs();

  const datastores = defineTool({
    name: 'pbs_datastores',
    title: 'Proxmox Backup Server datastores',
    description:
      'Every datastore of the Proxmox Backup Server: total, used and available space, percent used, the date PBS itself estimates it ' +
      'will be full (a linear fit over the last month; empty when usage does not grow), any error PBS reports for it (e.g. it cannot ' +
      'be opened), maintenance mode, and its last garbage collection (when it started, bytes removed, bytes pending removal). Call it ' +
      'first for a full or failing datastore; pbs_backups lists what is stored in one.',
    input: {},
    annotations: READ_ONLY,
    defaultFor: (a) => (a.subject.startsWith('pbs-datastore:') ? {} : undefined),
    run: (_i, signal) =>
      guarded(async () => {
        const [usage, configs] = await Promise.all([reader.usage(signal), reader.datastores(signal).catch(() => [])]);
        if (usage.length === 0) return noData('this Proxmox Backup Server has no datastores (or the token may see none: it needs Audit on /)');
        const nowS = now() / 1000;
        const rows = usage.map((u) => {
          const cfg = configs.find((c) => c.store === u.store);
          const full = u['estimated-full-date'] ?? 0;
          const gc = u['gc-status'];
          return {
            store: u.store,
            ...(u.total ? { used_pct: Math.round(((u.used ?? 0) / u.total) * 1000) / 10, total: gib(u.total), used: gib(u.used), avail: gib(u.avail) } : {}),
            estimated_full: full > nowS ? iso(full).slice(0, 10) : '',
            ...(u.error ? { error: u.error } : {}),
            ...(cfg?.maintenance ? { maintenance: cfg.maintenance } : {}),
            ...(cfg?.comment ? { comment: cfg.comment } : {}),
            ...(gc ? { last_gc: { started: upidStart(gc.upid) ?? 'never', removed: gib(gc['removed-bytes']), pending: gib(gc['pending-bytes']) } } : {}),
          };
        });
        const text = rows
          .map((r) => `${r.store}: ${r.error ? `ERROR ${r.error}` : `${r.used_pct ?? '?'} % used (${r.used ?? '?'} of ${r.total ?? '?'})`}${r.estimated_full ? `, full around ${r.estimated_full}` : ''}${r.last_gc ? `; last GC ${r.last_gc.started}` : ''}`)
          .join('\n');
        return ok({ datastores: rows }, text);
      }),
  });

  const backups = defineTool({
    name: 'pbs_backups',
    title: 'Backups on the Proxmox Backup Server',
    description:
      `Every backup group (one VM, container or host) on the Proxmox Backup Server with its newest backup, age in hours, number of ` +
      `snapshots, the verify state of the newest snapshot (ok, failed, or "" = not verified), its comment (usually the guest's name) and ` +
      `stale = older than max_backup_age (${judge.maxAgeHours} h) and not in the ignore list. Stale and oldest first, at most ${MAX_ROWS} ` +
      'rows. Use it for "which VMs have no recent backup?" (stale rows) and "when was VM 101 last backed up?" (type vm, id 101). ' +
      'A guest that was never backed up to this server has no row at all.',
    input: {
      store: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/).optional().describe('one datastore, as pbs_datastores names it; default all'),
      type: z.enum(['vm', 'ct', 'host']).optional().describe('vm, ct (container) or host'),
      id: z.string().regex(/^[^\s/]+$/).optional().describe('the backup id: a VMID such as 101, or a host name'),
    },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      // this server's own groups, and a failed Proxmox VE backup of a guest (backup:<vmid>): is there an older one?
      const m = /^pbs-backup:([^/]+)\/(vm|ct|host)\/(.+)$/.exec(a.subject);
      if (m) return { store: m[1], type: m[2], id: m[3] };
      const vmid = /^backup:(\d+)$/.exec(a.subject)?.[1];
      return vmid ? { id: vmid } : undefined;
    },
    run: ({ store, type, id }, signal) =>
      guarded(async () => {
        const stores = (await reader.usage(signal)).filter((u) => !u.error).map((u) => u.store);
        if (store && !stores.includes(store)) return failed(`no datastore "${store}" that can be read (datastores: ${stores.join(', ') || 'none'}); call pbs_datastores`);
        const nowS = now() / 1000;
        const rows: Record<string, unknown>[] = [];
        for (const s of store ? [store] : stores) {
          const groups = (await reader.groups(s, signal)).filter((g) => (!type || g['backup-type'] === type) && (!id || g['backup-id'] === id));
          if (groups.length === 0) continue;
          const snaps: Snapshot[] = type && id ? await reader.snapshots(s, { type, id }, signal) : await reader.snapshots(s, undefined, signal);
          const newest = new Map<string, Snapshot>();
          for (const n of snaps) {
            const k = `${n['backup-type']}/${n['backup-id']}`;
            if ((newest.get(k)?.['backup-time'] ?? -1) < n['backup-time']) newest.set(k, n);
          }
          for (const g of groups) {
            const ageHours = Math.round(((nowS - g['last-backup']) / 3600) * 10) / 10;
            const ignored = isIgnored(judge.ignore, s, g['backup-type'], g['backup-id']);
            rows.push({
              store: s,
              type: g['backup-type'],
              id: g['backup-id'],
              comment: g.comment ?? '',
              last_backup: iso(g['last-backup']),
              age_hours: ageHours,
              stale: !ignored && ageHours > judge.maxAgeHours,
              ignored,
              count: g['backup-count'],
              last_verify: newest.get(`${g['backup-type']}/${g['backup-id']}`)?.verification?.state ?? '',
            });
          }
        }
        const what = [store && `on ${store}`, type && `of type ${type}`, id && `with id ${id}`].filter(Boolean).join(' ');
        if (rows.length === 0) return noData(`no backup groups ${what || 'on this server'}: nothing was backed up here${id ? ` as ${type ?? '*'}/${id}` : ''}`);
        rows.sort((a, b) => Number(b.stale) - Number(a.stale) || (b.age_hours as number) - (a.age_hours as number));
        const stale = rows.filter((r) => r.stale);
        const shown = rows.slice(0, MAX_ROWS);
        const line = (r: Record<string, unknown>) => `${String(r.type)}/${String(r.id)}${r.comment ? ` (${String(r.comment)})` : ''} on ${String(r.store)}: ${ageText(r.age_hours as number)} ago, ${String(r.count)} snapshots, verify ${String(r.last_verify) || 'none'}`;
        const head = stale.length
          ? `${stale.length} of ${rows.length} groups have no backup newer than ${judge.maxAgeHours} h:\n${stale.slice(0, MAX_ROWS).map(line).join('\n')}`
          : `all ${rows.length} groups have a backup newer than ${judge.maxAgeHours} h${rows.some((r) => r.ignored) ? ' (ignored ones aside)' : ''}`;
        const failedVerify = rows.filter((r) => r.last_verify === 'failed');
        const verify = failedVerify.length ? `\nnewest snapshot failed verification: ${failedVerify.map((r) => `${String(r.type)}/${String(r.id)} on ${String(r.store)}`).join(', ')}` : '';
        return ok({ groups: shown, total: rows.length, stale: stale.length, ...(rows.length > MAX_ROWS ? { truncated: rows.length - MAX_ROWS } : {}) }, `${head}${verify}${rows.length > MAX_ROWS ? `\n(${rows.length - MAX_ROWS} more rows not shown: narrow by store, type or id)` : ''}`);
      }),
  });

  const tasks = defineTool({
    name: 'pbs_tasks',
    title: 'Proxmox Backup Server tasks',
    description:
      'Tasks the Proxmox Backup Server ran (garbage collection, prune, verify, sync, tape, and client backup/restore sessions), newest ' +
      `first, at most ${MAX_ROWS}: type, id (datastore and job or group), status ("OK", "WARNINGS: n", or the error), start and end. ` +
      `With failed_only, only tasks that failed; the log tail of the newest ${MAX_TAILS} failed ones is included. Use it when a job ` +
      'failed or a backup is missing, to see what PBS logged.',
    input: {
      failed_only: z.boolean().default(false).describe('only tasks that ended with an error (or warnings)'),
      since_hours: z.number().int().min(1).max(720).default(24).describe('how far back, in hours (at most 720 = 30 days)'),
    },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.subject.startsWith('pbs-task:') ? { failed_only: true, since_hours: 48 } : undefined),
    run: ({ failed_only, since_hours }, signal) =>
      guarded(async () => {
        const since = Math.floor(now() / 1000) - since_hours * 3600;
        const list = (await reader.tasks({ since, errors: failed_only, limit: 1000 }, signal)).sort((a, b) => b.starttime - a.starttime);
        if (list.length === 0) return noData(`no ${failed_only ? 'failed ' : ''}tasks in the last ${since_hours} h`);
        const budget = { left: MAX_TAILS };
        const rows: Record<string, unknown>[] = [];
        for (const t of list.slice(0, MAX_ROWS)) {
          const bad = finished(t) && !isOk(t.status);
          const tail = bad ? await logs.tail(reader, t.upid, budget, signal).catch(() => undefined) : undefined;
          rows.push({ type: t.worker_type, job: jobOf(t.worker_type), id: t.worker_id ?? '', status: t.status ?? 'running', started: iso(t.starttime), ...(t.endtime ? { ended: iso(t.endtime) } : {}), ...(tail ? { log_tail: tail } : {}) });
        }
        const failedN = rows.filter((r) => r.status !== 'running' && !isOk(String(r.status))).length;
        const text = rows.map((r) => `${String(r.started)} ${String(r.type)} ${String(r.id)}: ${String(r.status)}${r.log_tail ? `\n    ${(r.log_tail as string[]).join('\n    ')}` : ''}`).join('\n');
        return ok({ tasks: rows, total: list.length, failed: failedN }, `${list.length} tasks in the last ${since_hours} h, ${failedN} failed${list.length > MAX_ROWS ? ` (newest ${MAX_ROWS} shown)` : ''}:\n${text}`);
      }),
  });

  return [datastores, backups, tasks];
}
