/**
 * Reads pools with zpool: `zpool status -jp --json-int` where OpenZFS has it (>= 2.3: numbers
 * as numbers), else the text form (Debian bookworm ships 2.1/2.2); `zpool list -Hp` for
 * capacity and fragmentation. Whether JSON works is learnt once and remembered. One reader,
 * shared by the collector and the MCP tools.
 */
import { run } from '../../exec.ts';
import { parseZpoolList, parseZpoolStatusJson, parseZpoolStatusText } from './parse.ts';
import { parseZpoolEvents, type ZpoolEvent } from './parse-events.ts';
import type { PoolHealth, PoolUsage } from './types.ts';

export interface PoolReading {
  health: PoolHealth;
  usage?: PoolUsage;
}

export class ZfsReader {
  /** undefined until learnt: does this zpool speak JSON? */
  #json: boolean | undefined;

  constructor(private readonly opts: { zpool?: string; timeoutMs?: number } = {}) {}

  #exec(args: string[], signal?: AbortSignal) {
    return run(this.opts.zpool ?? 'zpool', args, { timeoutMs: this.opts.timeoutMs ?? 30_000, maxOutputBytes: 8 * 1024 * 1024, package: 'zfsutils-linux', ...(signal ? { signal } : {}) });
  }

  /** The form the last status read used (for `observe` and tests). */
  get format(): 'json' | 'text' | 'unknown' {
    return this.#json === undefined ? 'unknown' : this.#json ? 'json' : 'text';
  }

  async status(signal?: AbortSignal): Promise<PoolHealth[]> {
    if (this.#json !== false) {
      const r = await this.#exec(['status', '-jp', '--json-int'], signal);
      if (r.code === 0) {
        try {
          const pools = parseZpoolStatusJson(r.stdout);
          this.#json = true;
          return pools;
        } catch (e) {
          if (this.#json === true) throw e; // it spoke JSON before: this output is broken, say so
        }
      } else if (this.#json === true) {
        // it spoke JSON before: a failing run is a failure, not a reason to forget the form
        throw new Error(`zpool status -jp --json-int exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
      }
      this.#json = false; // older OpenZFS: -j is an unknown option
    }
    const r = await this.#exec(['status', '-p'], signal);
    if (r.code !== 0 && !r.stdout.trim()) throw new Error(`zpool status exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    if (/^no pools available/m.test(r.stdout + r.stderr)) return [];
    return parseZpoolStatusText(r.stdout);
  }

  async list(signal?: AbortSignal): Promise<PoolUsage[]> {
    const r = await this.#exec(['list', '-Hp'], signal);
    if (r.code !== 0) throw new Error(`zpool list exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    return parseZpoolList(r.stdout);
  }

  /**
   * `zpool events -v [pool]`: the kernel's recent events, oldest first. Reading them takes the
   * sys_config privilege (on Linux CAP_SYS_ADMIN: root, not the zfs group or `zfs allow`); without it
   * zpool prints the header, then "cannot get event: permission denied", and exits non-zero.
   */
  async events(pool: string | undefined, signal?: AbortSignal): Promise<{ dropped: number; events: ZpoolEvent[] }> {
    const args = ['events', '-v', ...(pool === undefined ? [] : [pool])];
    const r = await this.#exec(args, signal);
    if (r.code !== 0) {
      const said = r.stderr.trim().split('\n')[0] || r.stdout.trim().split('\n').at(-1) || 'no message';
      const what = `zpool ${args.join(' ')} ${r.code === null ? 'was killed by a signal' : `exited ${r.code}`}: ${said}`;
      if (/permission denied|not permitted|insufficient privileges/i.test(said))
        throw new Error(
          `${what}. Reading ZFS events needs root privileges on /dev/zfs: run labwatch as root, or give its user ` +
            'CAP_SYS_ADMIN (systemd/labwatch.service.d/sys-admin.conf does; `labwatch install --systemd` adds it where /dev/zfs exists); the zfs group and `zfs allow` do not cover events',
        );
      throw new Error(what);
    }
    return parseZpoolEvents(r.stdout);
  }

  /**
   * Status and list, each standing alone: a failing `zpool list` leaves the pools (from status)
   * visible, without capacity, and says why in `listError`. A failing status still throws.
   */
  async readAll(signal?: AbortSignal): Promise<{ readings: PoolReading[]; listError?: string }> {
    const [health, usage] = await Promise.allSettled([this.status(signal), this.list(signal)]);
    if (health.status === 'rejected') throw health.reason;
    const pools = usage.status === 'fulfilled' ? usage.value : [];
    const readings = health.value.map((h) => {
      const u = pools.find((x) => x.name === h.name);
      return { health: h, ...(u ? { usage: u } : {}) };
    });
    return usage.status === 'rejected' ? { readings, listError: (usage.reason as Error).message } : { readings };
  }
}
