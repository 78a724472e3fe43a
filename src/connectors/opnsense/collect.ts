/**
 * One poll of an OPNsense firewall: interfaces and VLANs with their error counters, gateways,
 * memory, filesystems and the system's own notices — six GETs. A part that cannot be read (a
 * privilege the API user lacks, a timeout) is reported once as `collector:opnsense/<part>` and the
 * other parts are still read; a firewall that cannot be reached or refuses the key fails the poll.
 */
import { ApiError } from '../api-client.ts';
import type { Collector, Observation } from '../types.ts';
import { interfaceObservations } from './interfaces.ts';
import type { Iface, NetstatRow, OpnsenseReader } from './read.ts';
import { filesystemObservations, gatewayObservation, noticeObservations, systemObservation } from './system.ts';

const PARTS = ['interfaces', 'netstat', 'gateways', 'system', 'notices'] as const;
type Part = (typeof PARTS)[number];

/** Failures that no other endpoint will escape: the whole poll fails with them. */
const fatal = (e: unknown) => e instanceof ApiError && ['auth', 'unreachable', 'tls'].includes(e.kind);

export function opnsenseCollector(opts: { reader: OpnsenseReader; host: string; clock?: () => number }): Collector {
  const { reader, host } = opts;
  /** notice subjects seen last poll: one that disappears is reported gone, so its anomaly resolves */
  let notices = new Set<string>();
  return {
    name: 'opnsense',
    collect: async (signal) => {
      const at = new Date((opts.clock ?? Date.now)()).toISOString();
      const errors = new Map<Part, string>();
      const read = async <T>(part: Part, fn: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await fn();
        } catch (e) {
          if (signal.aborted || fatal(e)) throw e;
          errors.set(part, [errors.get(part), (e as Error).message].filter(Boolean).join('; '));
          return undefined;
        }
      };
      const out: Observation[] = [];
      const ifaces: Iface[] | undefined = await read('interfaces', () => reader.interfaces(signal));
      const netstat: NetstatRow[] = (await read('netstat', () => reader.netstat(signal))) ?? [];
      if (ifaces) out.push(...interfaceObservations(ifaces, netstat, host, at));

      const gw = await read('gateways', () => reader.gateways(signal));
      for (const g of gw?.items ?? []) out.push(gatewayObservation(g, host, at));

      const res = await read('system', () => reader.resources(signal));
      if (res) out.push(systemObservation(res.memory, host, at));
      const disks = await read('system', () => reader.disks(signal));
      if (disks) out.push(...filesystemObservations(disks, host, at));

      const status = await read('notices', () => reader.status(signal));
      if (status) {
        const now = noticeObservations(status, host, at);
        const seen = new Set(now.map((o) => o.subject));
        for (const subject of notices) if (!seen.has(subject)) now.push({ source: 'opnsense', kind: 'notice', subject, host, at, values: {}, gone: true });
        notices = seen;
        out.push(...now);
      }
      for (const part of PARTS) out.push({ source: 'opnsense', kind: 'collector', subject: `collector:opnsense/${part}`, host, at, values: { ok: !errors.has(part), error: errors.get(part) ?? '' } });
      return out;
    },
  };
}
