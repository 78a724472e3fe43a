/**
 * What the server's task list says went wrong: failed garbage collection, prune, verify, sync and
 * tape jobs, one observation per job (type + id). A failure counts for 24 h, or until a later run
 * of the same job succeeds; the list covers 48 h so that both are seen. A failed task's log is
 * read once (a finished task's log never changes) and its telling lines kept.
 */
import { jobOutcomes, LogCache } from '../task-outcomes.ts';
import type { Observation } from '../types.ts';
import type { PbsReader, PbsTask } from './read.ts';

export const DAY_S = 86_400;
/** Client sessions: a backup that failed shows as a backup too old (and on the Proxmox VE side with its log); a restore is not a job. */
const SESSIONS = new Set(['backup', 'reader']);
/** New logs read per poll, so a first poll after a week away stays bounded. */
const LOGS_PER_POLL = 5;
const LOG_CACHE = 500;
const TAIL = 12;

export type Finished = PbsTask & { endtime: number; status: string };
export const finished = (t: PbsTask): t is Finished => typeof t.endtime === 'number' && typeof t.status === 'string';

/** The job a worker type runs, in the words people use for it. */
export function jobOf(workerType: string): string {
  if (workerType === 'garbage_collection') return 'GC';
  if (workerType.startsWith('prune')) return 'prune';
  if (workerType.startsWith('verif')) return 'verify';
  if (workerType.startsWith('sync')) return 'sync';
  if (workerType.startsWith('tape-backup')) return 'tape backup';
  return workerType.replace(/[_-]+/g, ' ');
}

/** The datastore a job's worker id names: "main", "main:daily", "main:vm/101" → "main". */
export function storeOf(t: PbsTask): string {
  return (t.worker_id ?? '').split(':')[0] ?? '';
}

const TELLING = /error|fail|bad|corrupt|unable|cannot|can't|denied|missing|refused|timed? ?out/i;
/** Progress and clean results, which mention "errors" without one. */
const QUIET = /\(0 errors\)|percentage done/i;

/**
 * A log's telling lines: the ones that say what failed (and the snapshots a verify lists after
 * "Failed to verify the following"), then the last line ("TASK ERROR: …"), in order. A verify
 * log of a big datastore has thousands of lines of progress.
 */
function logTail(lines: string[], max = TAIL): string[] {
  const telling: number[] = [];
  let list = false;
  lines.forEach((line, i) => {
    const text = line.replace(/^\d{4}-\d\d-\d\dT\S+: /, ''); // PBS prefixes each line with its time
    if (list && /^\s/.test(text)) return void telling.push(i);
    list = /following snapshots/i.test(text);
    if (list || (TELLING.test(text) && !QUIET.test(text))) telling.push(i);
  });
  const keep = new Set([...telling.slice(-(max - 1)), ...(lines.length ? [lines.length - 1] : [])]);
  return [...keep].sort((a, b) => a - b).map((i) => lines[i]!);
}

/** Task logs' telling lines by UPID (each log read once). */
export class TaskLogs {
  readonly #cache = new LogCache<string[]>(LOG_CACHE);

  tail(reader: PbsReader, upid: string, budget: { left: number }, signal?: AbortSignal): Promise<string[] | undefined> {
    return this.#cache.get(upid, budget, async () => logTail(await reader.taskLog(upid, signal)));
  }
}

/** The newest finished garbage collection per datastore: its status as PBS says it ("OK" or the error). */
export function lastGcByStore(tasks: PbsTask[]): Map<string, Finished> {
  const out = new Map<string, Finished>();
  for (const t of tasks.filter(finished))
    if (t.worker_type === 'garbage_collection') {
      const have = out.get(storeOf(t));
      if (!have || t.endtime > have.endtime) out.set(storeOf(t), t);
    }
  return out;
}

/** One `task` observation per job that failed in the window; `failed` says whether it still counts. */
export async function taskObservations(
  reader: PbsReader,
  logs: TaskLogs,
  tasks: PbsTask[],
  host: string,
  now: Date,
  signal?: AbortSignal,
  /** told when a log cannot be read: the task is still reported, without its tail */
  onLogError?: (e: unknown) => void,
): Promise<Observation[]> {
  const nowS = Math.floor(now.getTime() / 1000);
  const budget = { left: LOGS_PER_POLL };
  const at = now.toISOString();
  const out: Observation[] = [];
  const jobs = tasks.filter(finished).filter((t) => !SESSIONS.has(t.worker_type));
  for (const { key, latest: t, failing: failed } of jobOutcomes(jobs, (t) => `${t.worker_type}/${t.worker_id || '-'}`, nowS)) {
    const tail = failed
      ? ((await logs.tail(reader, t.upid, budget, signal).catch((e: unknown) => {
          if (signal?.aborted) throw e;
          onLogError?.(e);
          return undefined;
        })) ?? [])
      : [];
    const job = jobOf(t.worker_type);
    out.push({
      source: 'proxmox_backup',
      kind: 'task',
      subject: `pbs-task:${key}`,
      host,
      at,
      values: { type: t.worker_type, id: t.worker_id ?? '', job, store: storeOf(t), failed, status: t.status, log_tail: tail.join('\n'), task: t.upid, ended_at: new Date(t.endtime * 1000).toISOString() },
      summary: `${job} ${t.worker_id ?? ''} ${failed ? `FAILED: ${t.status}` : 'ok'}`,
    });
  }
  return out;
}
