/**
 * A real `labwatch run` child process (bin/labwatch.js, as a user or systemd starts it), for tests
 * about signals, outages and crashes. Its JSON log lines (stderr) are collected as they come.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.ts';

const BIN = new URL('../../bin/labwatch.js', import.meta.url).pathname;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface LabwatchProcess {
  child: ChildProcess;
  /** the HTTP base URL, once "labwatch is running" was logged */
  url: string;
  /** every JSON log line so far, parsed */
  lines(): LogLine[];
  /** the raw stderr so far */
  stderr(): string;
  /** waits for a log line whose msg matches */
  line(msg: RegExp, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  metric(name: string): Promise<number | undefined>;
}

/** Writes `yaml` to a temporary file and starts `labwatch run --config` on it; resolves once it listens. */
export async function startLabwatch(yaml: string, env: Record<string, string> = {}): Promise<LabwatchProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-proc-'));
  const config = join(dir, 'labwatch.yaml');
  writeFileSync(config, yaml);
  const child = spawn(process.execPath, [BIN, 'run', '--config', config], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout!.on('data', () => {});
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const lines = (): LogLine[] =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          return { level: 0, msg: l };
        }
      });
  const line = (msg: RegExp, timeoutMs = 15_000) => waitFor(`a log line matching ${msg}`, () => lines().find((l) => msg.test(l.msg)), timeoutMs);
  const proc: LabwatchProcess = {
    child,
    url: '',
    lines,
    stderr: () => stderr,
    line,
    exited,
    async metric(name) {
      const text = await (await fetch(`${proc.url}/metrics`)).text();
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    },
  };
  let running: LogLine | null;
  try {
    running = await Promise.race([line(/^labwatch is running$/, 30_000), exited.then(() => null)]);
  } catch (e) {
    // never leave a child behind: a live one keeps the test file from ever exiting
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}; its output so far:\n${stderr}`);
  }
  if (!running) throw new Error(`labwatch run exited before it was running:\n${stderr}`);
  proc.url = String(running.listen);
  return proc;
}

/** `labwatch <args>` to its end, as a person runs it (a clean environment, HOME in `home`): exit code and output. */
export function runLabwatch(args: string[], home: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
