/**
 * What a node's task list says went wrong: backups (vzdump) per guest, and every other task that
 * failed. A scheduled backup job is one task for many guests, so which guest failed is read from
 * its log ("ERROR: Backup of VM 107 failed - …"); each log is read once and remembered.
 */
import { isOkStatus, jobOutcomes, LogCache } from '../task-outcomes.ts';
import type { Observation } from '../types.ts';
import { nodeDown, type ProxmoxReader, type Task } from './read.ts';

const DAY_S = 86_400;
/** Console sessions end "failed" whenever someone closes the window: not a problem to report. */
export const CONSOLE_TASKS = new Set(['vncproxy', 'vncshell', 'spiceproxy', 'spiceshell', 'termproxy', 'vncterm']);
/** New logs read per node per poll, so a first poll after a week away stays bounded. */
const LOGS_PER_POLL = 10;
const LOG_CACHE = 2000;
const TAIL = 12;
/** A log line longer than this (vzdump prints whole tar pipelines) keeps its start and its end. */
const LINE_MAX = 400;
const clip = (l: string) => (l.length > LINE_MAX ? `${l.slice(0, 240)} … ${l.slice(-120)}` : l);

/** A finished vzdump run as it concerns one guest. */
export interface GuestRun {
  vmid: number;
  node: string;
  ok: boolean;
  error: string;
  tail: string[];
  task: string;
  ended: number;
}

/** Task logs of this cluster by UPID (each read once). */
export class TaskLogs {
  readonly #cache = new LogCache<string[]>(LOG_CACHE);

  get(reader: ProxmoxReader, node: string, upid: string, budget: { left: number }, signal?: AbortSignal): Promise<string[] | undefined> {
    // A log that cannot be read (refused, gone) costs only what it would have told, and is not
    // asked for again; the node being down is another matter.
    return this.#cache.get(upid, budget, () =>
      reader.taskLog(node, upid, 400, signal).catch((e: unknown) => {
        if (signal?.aborted || nodeDown(e)) throw e;
        return [] as string[];
      }),
    );
  }
}

const finished = (t: Task): t is Task & { endtime: number; status: string } => t.endtime !== undefined && typeof t.status === 'string';

/** Splits a vzdump log into each guest's outcome: "Starting Backup of VM N" … "Finished"/"ERROR: Backup of VM N failed - why". */
function guestsInVzdumpLog(lines: string[]): Map<number, { ok: boolean; error: string; tail: string[] }> {
  const out = new Map<number, { ok: boolean; error: string; tail: string[] }>();
  // the lines since the current guest's "Starting Backup": its part of a job's log
  let segment: string[] = [];
  for (const line of lines) {
    if (/Starting Backup of VM \d+/.test(line)) segment = [];
    segment.push(line);
    const fail = /ERROR: Backup of VM (\d+) failed - (.*)$/.exec(line);
    if (fail) out.set(Number(fail[1]), { ok: false, error: fail[2]!.trim(), tail: segment.slice(-TAIL) });
    const done = /Finished Backup of VM (\d+)/.exec(line);
    if (done && !out.has(Number(done[1]))) out.set(Number(done[1]), { ok: true, error: '', tail: [] });
  }
  return out;
}

/** A node's vzdump runs of the last 8 days, per guest (a job's log says which guest failed and why). */
export async function backupRuns(
  reader: ProxmoxReader,
  logs: TaskLogs,
  node: string,
  now: Date,
  signal?: AbortSignal,
): Promise<GuestRun[]> {
  const since = Math.floor(now.getTime() / 1000) - 8 * DAY_S;
  const tasks = (await reader.tasks(node, { since, type: 'vzdump' }, signal)).filter(finished);
  const budget = { left: LOGS_PER_POLL };
  const runs: GuestRun[] = [];
  for (const t of tasks.sort((a, b) => b.endtime - a.endtime)) {
    const single = /^\d+$/.test(t.id) ? Number(t.id) : undefined;
    if (single !== undefined && isOkStatus(t.status)) {
      runs.push({ vmid: single, node, ok: true, error: '', tail: [], task: t.upid, ended: t.endtime });
      continue;
    }
    // a job over several guests, or a failed run: its log says which guest and why
    const lines = await logs.get(reader, node, t.upid, budget, signal);
    if (!lines) continue;
    const per = guestsInVzdumpLog(lines);
    if (single !== undefined && !per.has(single)) per.set(single, { ok: false, error: t.status, tail: lines.slice(-TAIL) });
    for (const [vmid, r] of per) runs.push({ vmid, node, ...r, task: t.upid, ended: t.endtime });
  }
  return runs;
}

/**
 * One `backup_run` per guest from every node's runs: a guest that migrated has its newest run on
 * its new node, and that run (not the old node's failure) is its state.
 */
export function backupObservations(runs: GuestRun[], names: Map<number, string>, now: Date): Observation[] {
  const byGuest = new Map<number, GuestRun[]>();
  for (const r of runs) byGuest.set(r.vmid, [...(byGuest.get(r.vmid) ?? []), r]);
  const at = now.toISOString();
  return [...byGuest].map(([vmid, rs]) => {
    rs.sort((a, b) => b.ended - a.ended);
    const last = rs[0]!;
    const inRow = rs.findIndex((r) => r.ok);
    return {
      source: 'proxmox',
      kind: 'backup_run',
      subject: `backup:${vmid}`,
      host: last.node,
      at,
      values: {
        vmid,
        node: last.node,
        guest: names.get(vmid) ?? '',
        last_status: last.ok ? 'ok' : 'failed',
        failures_in_row: inRow === -1 ? rs.length : inRow,
        last_error: last.error,
        log_tail: last.tail.map(clip).join('\n'),
        task: last.task,
        ended_at: new Date(last.ended * 1000).toISOString(),
      },
      summary: `backup of ${names.get(vmid) ?? vmid} ${last.ok ? 'ok' : `FAILED: ${last.error}`}`,
    } satisfies Observation;
  });
}

/**
 * Failed tasks other than backups (migrations, replication, updates, …) of the last 24 h, one per
 * type and id; once a later run of the same succeeded, or the failure is over a day old, the
 * observation says failed: false so what it raised resolves. The list covers 48 h for that.
 */
export async function failedTasks(reader: ProxmoxReader, logs: TaskLogs, node: string, now: Date, signal?: AbortSignal): Promise<Observation[]> {
  const nowS = Math.floor(now.getTime() / 1000);
  const tasks = (await reader.tasks(node, { since: nowS - 2 * DAY_S }, signal)).filter(finished).filter((t) => t.type !== 'vzdump' && !CONSOLE_TASKS.has(t.type));
  const at = now.toISOString();
  const budget = { left: LOGS_PER_POLL };
  const out: Observation[] = [];
  for (const { key, latest: t, failing } of jobOutcomes(tasks, (t) => `${t.type}/${t.id || '-'}`, nowS)) {
    const tail = failing ? ((await logs.get(reader, node, t.upid, budget, signal)) ?? []).slice(-TAIL) : [];
    out.push({
      source: 'proxmox',
      kind: 'task',
      subject: `pve-task:${node}/${key}`,
      host: node,
      at,
      values: { node, type: t.type, id: t.id, failed: failing, status: t.status, log_tail: tail.map(clip).join('\n'), task: t.upid, ended_at: new Date(t.endtime * 1000).toISOString() },
    });
  }
  return out;
}
