/**
 * The one way labwatch runs a command: execFile with a fixed argument list (never a shell), a
 * timeout, an output cap and an abort signal. A non-zero exit is data, not an error (smartctl's
 * exit status is a bit mask of facts); only failing to run at all rejects, with a message that
 * says what to do.
 */
import { execFile } from 'node:child_process';
import { basename } from 'node:path';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** the exit code; null when killed by a signal */
  code: number | null;
}

class ExecError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'permission' | 'timeout' | 'output-too-large' | 'failed',
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

export interface ExecOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** the Debian package that installs the command, for the "not installed" message (default: its name) */
  package?: string;
}

export function run(command: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBuffer = opts.maxOutputBytes ?? 8 * 1024 * 1024;
  const shown = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer, encoding: 'utf8', windowsHide: true, ...(opts.signal ? { signal: opts.signal } : {}), env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0 });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
        if (e.code === 'ENOENT') {
          const pkg = opts.package ?? basename(command);
          return reject(new ExecError(`${command} is not installed or not on PATH; install it (e.g. apt install ${pkg})`, 'missing'));
        }
        if (e.code === 'EACCES') return reject(new ExecError(`${command}: permission denied; labwatch's user may not run it`, 'permission'));
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return reject(new ExecError(`${shown}: output over ${maxBuffer} bytes; refusing to read more`, 'output-too-large'));
        if (e.name === 'AbortError' || (e.killed && e.signal === 'SIGTERM'))
          return reject(new ExecError(`${shown}: no answer within ${timeoutMs} ms; killed (a hung device or command?)`, 'timeout'));
        if (typeof e.code === 'number') return resolve({ stdout, stderr, code: e.code });
        if (e.signal) return resolve({ stdout, stderr, code: null });
        return reject(new ExecError(`${shown}: ${e.message}`, 'failed'));
      },
    );
  });
}
