/**
 * The audit trail: every tool call (who, which tool, arguments with secrets redacted, how long,
 * how big, outcome) appended to a JSONL file that rotates at a size, and to a Redis stream for
 * the dashboard and `labwatch audit`. Losing the Redis copy never loses the file copy.
 */
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';
import { makeScrubber } from '../telemetry/log.ts';

export interface AuditEntry {
  at: string;
  caller: string;
  incident?: string;
  tool: string;
  args: unknown;
  durationMs: number;
  bytes: number;
  outcome: string;
}

export interface AuditLog {
  record(e: AuditEntry): Promise<void>;
}

export class Audit implements AuditLog {
  readonly #scrub: (s: string) => string;

  constructor(
    private readonly opts: {
      file?: string;
      maxFileBytes?: number;
      keep?: number;
      redis?: Redis;
      stream?: string;
      secrets?: string[];
      /** told of every call (the daemon counts them in labwatch_tool_calls_total) */
      onRecord?: (e: AuditEntry) => void;
    },
  ) {
    this.#scrub = makeScrubber(opts.secrets ?? []);
  }

  async record(e: AuditEntry): Promise<void> {
    this.opts.onRecord?.(e);
    const line = this.#scrub(JSON.stringify(e));
    if (this.opts.file) await this.#append(this.opts.file, line + '\n');
    if (this.opts.redis && this.opts.stream)
      await this.opts.redis.xadd(this.opts.stream, 'MAXLEN', '~', '10000', '*', 'entry', line).catch(() => undefined);
  }

  async #append(file: string, line: string): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size + line.length > (this.opts.maxFileBytes ?? 10 * 1024 * 1024)) {
      const keep = this.opts.keep ?? 3;
      for (let i = keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
      await rename(file, `${file}.1`).catch(() => undefined);
    }
    await appendFile(file, line, { mode: 0o640 });
  }

  /** Newest last; for `labwatch audit`. */
  async recent(count = 100): Promise<AuditEntry[]> {
    if (!this.opts.redis || !this.opts.stream) return [];
    const rows = await this.opts.redis.xrevrange(this.opts.stream, '+', '-', 'COUNT', count);
    return rows.map(([, fields]) => JSON.parse(fields[1]!) as AuditEntry).reverse();
  }
}
