/**
 * Real peers for end-to-end tests (Debian's prometheus, prometheus-alertmanager,
 * prometheus-node-exporter), started from the test on loopback with temporary data, no systemd,
 * no clustering, and stopped after. Each listens on port 0, so test files running side by side
 * never race for a port; the port the kernel gave is read back from /proc. `peersMissing` says why
 * a test must skip; with LABWATCH_REQUIRE_PEERS=1 (CI) a missing peer is a failure instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { waitFor } from './wait.ts';

export const PEER_BINS = {
  prometheus: process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus',
  alertmanager: process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager',
  nodeExporter: process.env.NODE_EXPORTER_BIN ?? '/usr/bin/prometheus-node-exporter',
};

/** The listen flag every peer takes: loopback, any free port. */
export const LISTEN_ANY = '--web.listen-address=127.0.0.1:0';

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
  /** http://127.0.0.1:<the port it got> */
  url: string;
  log(): string;
  /** POST /-/reload: the peer rereads its config file (Prometheus needs --web.enable-lifecycle). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** The TCP ports process `pid` listens on, from /proc (its socket inodes matched to LISTEN rows). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/); // sl local_address rem_address st … inode
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports];
}

/**
 * Starts `bin args` (args listening on 127.0.0.1:0, see LISTEN_ANY), finds the one port it listens
 * on, and waits until `readyPath` answers 200 there; if the process dies first, fails with its log.
 */
export async function startPeer(name: string, bin: string, args: string[], readyPath: string, timeoutMs = 10_000): Promise<Peer> {
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
    url: '',
    log: () => log,
    async reload() {
      const res = await fetch(`${peer.url}/-/reload`, { method: 'POST' });
      if (!res.ok) throw new Error(`${name} refused to reload its config (${res.status}): ${await res.text()}`);
    },
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
    `${name} listening and ready at ${readyPath}`,
    async () => {
      if (died) return died;
      if (!peer.url) {
        const ports = proc.pid ? listeningPorts(proc.pid) : [];
        if (ports.length > 1) return `${name} listens on ${ports.join(', ')}: expected one port (is clustering off?)`;
        if (ports.length === 0) return false;
        peer.url = `http://127.0.0.1:${ports[0]}`;
      }
      return (await fetch(`${peer.url}${readyPath}`).then((r) => r.ok, () => false)) && 'ready';
    },
    timeoutMs,
    100,
  );
  if (ready !== 'ready') {
    await peer.stop();
    throw new Error(String(ready));
  }
  return peer;
}
