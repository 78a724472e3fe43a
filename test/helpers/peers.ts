/**
 * Real peers for end-to-end tests (Debian's prometheus, prometheus-alertmanager,
 * prometheus-node-exporter), started from the test on loopback with temporary data, no systemd,
 * no clustering, and stopped after. `peersMissing` says why a test must skip; with
 * LABWATCH_REQUIRE_PEERS=1 (CI) a missing peer is a failure instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from './wait.ts';

export const PEER_BINS = {
  prometheus: process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus',
  alertmanager: process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager',
  nodeExporter: process.env.NODE_EXPORTER_BIN ?? '/usr/bin/prometheus-node-exporter',
};

/** Why the peers cannot run here, or undefined when they can. */
export function peersMissing(): string | undefined {
  const missing = Object.values(PEER_BINS).filter((b) => !existsSync(b));
  if (missing.length === 0) return undefined;
  const why = `${missing.join(', ')} missing: apt-get install prometheus prometheus-alertmanager prometheus-node-exporter`;
  if (process.env.LABWATCH_REQUIRE_PEERS === '1') throw new Error(`LABWATCH_REQUIRE_PEERS=1 but ${why}`);
  return why;
}

export interface Peer {
  name: string;
  url: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts `bin args`, waits until `readyPath` on `url` answers 200 (or the process dies, with its log). */
export async function startPeer(name: string, bin: string, args: string[], url: string, readyPath: string, timeoutMs = 10_000): Promise<Peer> {
  const proc: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  let died: string | undefined;
  proc.once('error', (e) => (died = `cannot start ${bin}: ${e.message}`));
  proc.once('exit', (code, sig) => (died ??= `${name} exited (${code ?? sig}):\n${log.split('\n').slice(-10).join('\n')}`));
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const peer: Peer = {
    name,
    url,
    log: () => log,
    async stop() {
      process.off('exit', kill);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  const ready = await waitFor(
    `${name} ready at ${url}${readyPath}`,
    async () => died ?? ((await fetch(`${url}${readyPath}`).then((r) => r.ok, () => false)) && 'ready'),
    timeoutMs,
    100,
  );
  if (ready !== 'ready') {
    await peer.stop();
    throw new Error(String(ready));
  }
  return peer;
}
