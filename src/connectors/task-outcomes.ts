/**
 * What the Proxmox products' task lists (Proxmox VE, Proxmox Backup Server) have in common: a
 * finished task ends "OK", "WARNINGS: <n>" or with its error as the status; a job (type + id) is
 * failing while its latest run failed within a day; a finished task's log never changes, so it is
 * read once and remembered, a few new ones per poll.
 */

const DAY_S = 86_400;

export const isOkStatus = (status: string) => status === 'OK' || status.startsWith('WARNINGS');

interface FinishedTask {
  endtime: number;
  status: string;
}

/**
 * Per job that failed at least once in `tasks`: its latest run and whether it still counts as
 * failing (that run failed, less than a day ago). A job whose latest run succeeded, or whose
 * failure is older, is listed with failing false, so what it raised resolves.
 */
export function jobOutcomes<T extends FinishedTask>(tasks: T[], keyOf: (t: T) => string, nowS: number): { key: string; latest: T; failing: boolean }[] {
  const latest = new Map<string, T>();
  const everFailed = new Set<string>();
  for (const t of tasks) {
    const key = keyOf(t);
    if (!isOkStatus(t.status)) everFailed.add(key);
    const have = latest.get(key);
    if (!have || t.endtime > have.endtime) latest.set(key, t);
  }
  return [...everFailed].map((key) => {
    const t = latest.get(key)!;
    return { key, latest: t, failing: !isOkStatus(t.status) && nowS - t.endtime <= DAY_S };
  });
}

/** Task logs by UPID, at most `budget.left` new reads per poll, the oldest forgotten past `size`. */
export class LogCache<T> {
  readonly #logs = new Map<string, T>();
  constructor(private readonly size: number) {}

  async get(upid: string, budget: { left: number }, read: () => Promise<T>): Promise<T | undefined> {
    const have = this.#logs.get(upid);
    if (have !== undefined) return have;
    if (budget.left <= 0) return undefined;
    budget.left--;
    const log = await read();
    if (this.#logs.size >= this.size) this.#logs.delete(this.#logs.keys().next().value!);
    this.#logs.set(upid, log);
    return log;
  }
}
