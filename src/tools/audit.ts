/**
 * The audit trail: every tool call (who, which tool, arguments with secrets redacted, how long,
 * how big, outcome) appended to a JSONL file that rotates at a size, and to a Redis stream for
 * the dashboard and `labwatch audit`.
 *
 * The audit is a record, not a gate: `record` never throws. Each copy is written on its own, so
 * losing one (a full disk, Redis away) never loses the other, and never fails the tool call or
 * the report it serves. A copy that fails is counted on every call (`onWriteFailure`), logged
 * once until it works again (then its recovery is logged), and named by `problem()` for /readyz.
 */
import { constants } from 'node:fs';
import { access, appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import { makeScrubber, type Logger } from '../telemetry/log.ts';

export interface AuditEntry {
  at: string;
  caller: string;
  incident?: string;
  tool: string;
  args: unknown;
  durationMs: number;
  bytes: number;
  outcome: string;
  /** the text the caller got back; kept only in the incident's call list (not the file or the stream) */
  result?: string;
}

/** An incident's call list keeps results up to this size each (the model never got more than the tool's cap). */
const RESULT_KEEP_BYTES = 32_000;
const CALLS_KEEP = 200;
const CALLS_TTL_S = 30 * 86_400;

export interface AuditLog {
  record(e: AuditEntry): Promise<void>;
}

/** Where an audit entry is kept: the JSONL file or the Redis stream. */
export type AuditSink = 'file' | 'redis';
export const AUDIT_SINKS: readonly AuditSink[] = ['file', 'redis'];

export class Audit implements AuditLog {
  readonly #scrub: (s: string) => string;
  /** the sinks whose last write failed, with why */
  readonly #failing = new Map<AuditSink, string>();

  constructor(
    private readonly opts: {
      file?: string;
      maxFileBytes?: number;
      keep?: number;
      redis?: Redis;
      stream?: string;
      /** the key of an incident's call list (results included), when calls made for incidents are kept for the dashboard */
      callsKey?: (incident: string) => string;
      secrets?: string[];
      /** told of every call (the daemon counts them in labwatch_tool_calls_total) */
      onRecord?: (e: AuditEntry) => void;
      /** told of every entry a sink could not keep (the daemon counts them in labwatch_audit_write_failures_total) */
      onWriteFailure?: (sink: AuditSink, err: Error) => void;
      /** where a failing sink, and its recovery, are logged (once each) */
      log?: Pick<Logger, 'error' | 'warn' | 'info'>;
    },
  ) {
    this.#scrub = makeScrubber(opts.secrets ?? []);
  }

  /** Keeps the entry wherever it can; never throws. */
  async record(e: AuditEntry): Promise<void> {
    try {
      this.opts.onRecord?.(e);
    } catch {
      // a metrics callback must not cost the record
    }
    const { result, ...entry } = e;
    const line = this.#scrub(JSON.stringify(entry));
    const { file, redis, stream, callsKey } = this.opts;
    // A tool run for an incident (it has a result; people's actions on the incident have none).
    const calls = redis && callsKey && e.incident && result !== undefined ? callsKey(e.incident) : undefined;
    // Scrubbed before it is cut: a secret across the cut must not leave its first half behind.
    const kept = result === undefined ? '' : this.#scrub(result);
    const withResult = calls ? this.#scrub(JSON.stringify({ ...entry, result: kept.length > RESULT_KEEP_BYTES ? kept.slice(0, RESULT_KEEP_BYTES) + '\n… (cut)' : kept })) : '';
    await Promise.all([
      file ? this.#keep('file', () => this.#append(file, line + '\n')) : undefined,
      redis && stream
        ? this.#keep('redis', async () => {
            const tx = redis.multi().xadd(stream, 'MAXLEN', '~', '10000', '*', 'entry', line);
            // The first calls are kept (an index into the list names one call for good); an investigation makes a few dozen.
            if (calls) tx.rpush(calls, withResult).ltrim(calls, 0, CALLS_KEEP - 1).expire(calls, CALLS_TTL_S);
            await tx.exec();
          })
        : undefined,
    ]);
  }

  /** What is wrong with the audit trail now (a sink whose last write failed), or null. */
  problem(): string | null {
    if (this.#failing.size === 0) return null;
    return [...this.#failing.values()].join('; ') + '; tool calls and reports go on';
  }

  async #keep(sink: AuditSink, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      try {
        this.opts.onWriteFailure?.(sink, e);
      } catch {
        // counting must not cost the record either
      }
      const first = !this.#failing.has(sink);
      this.#failing.set(sink, this.#describe(sink, e));
      if (first) {
        const fields = { sink, ...(sink === 'file' ? { file: this.opts.file } : { stream: this.opts.stream }), err: e.message };
        if (sink === 'file')
          this.opts.log?.error(fields, `cannot write the audit file; tool calls go on, their entries are kept ${this.opts.redis && this.opts.stream ? 'in the Redis stream only' : 'nowhere'} until it works again (logged once; counted in labwatch_audit_write_failures_total)`);
        else this.opts.log?.warn(fields, 'cannot add to the audit stream in Redis; entries are kept in the audit file only until it works again (logged once)');
      }
      return;
    }
    if (this.#failing.delete(sink)) {
      if (sink === 'file') this.opts.log?.info({ sink, file: this.opts.file }, 'the audit file is writable again');
      else this.opts.log?.info({ sink, stream: this.opts.stream }, 'the audit stream in Redis takes entries again');
    }
  }

  #describe(sink: AuditSink, e: Error): string {
    return sink === 'file' ? `cannot write the audit file ${this.opts.file}: ${e.message}` : `cannot add to the audit stream ${this.opts.stream} in Redis: ${e.message}`;
  }

  async #append(file: string, line: string): Promise<void> {
    // EEXIST: a non-folder is in the way; the append below says so (ENOTDIR).
    await mkdir(dirname(file), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size + line.length > (this.opts.maxFileBytes ?? 10 * 1024 * 1024)) {
      const keep = this.opts.keep ?? 3;
      for (let i = keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
      await rename(file, `${file}.1`).catch(() => undefined);
    }
    await appendFile(file, line, { mode: 0o640 });
  }

  /** The tool calls made for one incident, oldest first, with their results. */
  async callsOf(incident: string): Promise<AuditEntry[]> {
    const { redis, callsKey } = this.opts;
    if (!redis || !callsKey) return [];
    return (await redis.lrange(callsKey(incident), 0, -1)).map((l) => JSON.parse(l) as AuditEntry);
  }

  /** Newest last; for `labwatch audit`. */
  async recent(count = 100): Promise<AuditEntry[]> {
    if (!this.opts.redis || !this.opts.stream) return [];
    const rows = await this.opts.redis.xrevrange(this.opts.stream, '+', '-', 'COUNT', count);
    return rows.map(([, fields]) => JSON.parse(fields[1]!) as AuditEntry).reverse();
  }
}

/**
 * Why the audit file could not be written by this user, or null when it can (for `labwatch check`).
 * It creates nothing: a check run as root must not leave a root-owned file the daemon cannot append to.
 * It sees permissions, read-only filesystems and a path through a regular file, not a full disk.
 */
export async function auditFileProblem(file: string): Promise<string | null> {
  const exists = await stat(file).then(
    (s) => s,
    () => null,
  );
  if (exists) {
    if (!exists.isFile()) return `${file} is not a regular file`;
    return access(file, constants.W_OK).then(
      () => null,
      (e: Error) => `cannot append to ${file}: ${e.message}`,
    );
  }
  // The nearest folder that exists must let us create what is missing below it.
  let dir = dirname(file);
  for (;;) {
    const s = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
    if (!(s instanceof Error)) {
      if (!s.isDirectory()) return `cannot create ${file}: ${dir} is not a directory`;
      return access(dir, constants.W_OK | constants.X_OK).then(
        () => null,
        (e: Error) => `cannot create ${file}: ${e.message}`,
      );
    }
    if (s.code === 'ENOTDIR') {
      dir = dirname(dir);
      continue;
    }
    if (s.code !== 'ENOENT' || dirname(dir) === dir) return `cannot create ${file}: ${s.message}`;
    dir = dirname(dir);
  }
}
