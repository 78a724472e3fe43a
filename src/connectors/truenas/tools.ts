/**
 * TrueNAS SCALE diagnostic tools over the one TrueNasReader. All read-only (the reader can send
 * nothing else); a name the model gives is matched against what the NAS listed, never sent to it;
 * results are capped.
 */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolResult, type ToolSpec } from '../../tools/types.ts';
import { diskSubject, driveFromTrueNas, membership } from './disks.ts';
import { interfaceObservations } from './network.ts';
import { leafVdevs, poolFromTrueNas } from './pools.ts';
import { RpcError } from './rpc.ts';
import type { TrueNasReader } from './read.ts';
import { appObservations, taskObservations, taskRows } from './tasks.ts';

const MAX_ROWS = 60;
const name = z.string().min(1).max(128).regex(/^[^\s/][^\s]*$/, 'a name as the list tool shows it');

/** An RpcError's message already says what failed and what to change: that is the tool's answer. */
async function guarded(run: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof RpcError) return failed(e.message);
    throw e;
  }
}

const capped = <T>(rows: T[]) => ({ rows: rows.slice(0, MAX_ROWS), more: Math.max(0, rows.length - MAX_ROWS) });
const moreLine = (n: number) => (n ? [`… and ${n} more; narrow the filter`] : []);

function poolsTool(reader: TrueNasReader): ToolSpec {
  return defineTool({
    name: 'truenas_pools',
    title: 'TrueNAS pools and vdevs',
    description:
      "The NAS's ZFS pools as TrueNAS reports them: state (ONLINE, DEGRADED, FAULTED …), TrueNAS's own status text, how full, the last " +
      'or running scrub/resilver with its errors, and every device with its state and read/write/checksum error counters and the disk ' +
      '(serial = subject disk:<serial>) behind it. Call it for a pool: or vdev: anomaly on the NAS. Give pool to see one; an unknown name is refused with the names there are.',
    input: { pool: name.optional().describe('one pool, as this tool lists it') },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'truenas' && a.subject.startsWith('pool:') ? { pool: a.subject.slice(5) } : undefined),
    run: ({ pool }, signal) =>
      guarded(async () => {
        const [pools, disks] = [await reader.pools(signal), await reader.disks(signal)];
        if (pool && !pools.some((p) => p.name === pool)) return failed(`no pool "${pool}" on this NAS (pools: ${pools.map((p) => p.name).join(', ') || 'none'})`);
        const shown = pools.filter((p) => !pool || p.name === pool);
        if (shown.length === 0) return noData('the NAS has no pools');
        const { diskOfVdev } = membership(pools, disks);
        const rows = shown.map((p) => {
          const r = poolFromTrueNas(p);
          const devices = leafVdevs(p).slice(0, MAX_ROWS).map((v) => {
            const d = diskOfVdev.get(`${p.name}/${v.name}`);
            return { name: v.name, state: v.status ?? '', disk: d?.name ?? v.disk ?? '', serial: d?.serial ?? '', read_errors: v.stats?.read_errors ?? 0, write_errors: v.stats?.write_errors ?? 0, checksum_errors: v.stats?.checksum_errors ?? 0 };
          });
          return { name: p.name, state: p.status, status: p.status_detail ?? '', capacity_pct: r.usage?.capacityPct, scan: r.health.scan.text ?? 'never scanned', devices };
        });
        const lines = rows.flatMap((p) => [
          `${p.name}: ${p.state}${p.capacity_pct !== undefined ? `, ${p.capacity_pct} % full` : ''}; ${p.scan}${p.status ? `; ${p.status}` : ''}`,
          ...p.devices.map((d) => `  ${d.name}${d.disk ? ` (${d.disk}${d.serial ? `, serial ${d.serial}` : ''})` : ''} ${d.state} — ${d.read_errors} read, ${d.write_errors} write, ${d.checksum_errors} checksum errors`),
        ]);
        return ok({ pools: rows }, lines.join('\n'));
      }),
  });
}

function disksTool(reader: TrueNasReader): ToolSpec {
  return defineTool({
    name: 'truenas_disks',
    title: 'TrueNAS drives',
    description:
      "The NAS's drives: name, model, serial (subject disk:<serial>), size, pool, temperature and, on TrueNAS 25.04, the self-test log's " +
      `latest result. TrueNAS's API gives no SMART attributes; its SMART alerts are in truenas_alerts. At most ${MAX_ROWS} drives. Give serial for one drive.`,
    input: { serial: name.optional().describe('one drive, by serial') },
    annotations: READ_ONLY,
    run: ({ serial }, signal) =>
      guarded(async () => {
        const info = await reader.info(signal);
        const [pools, all] = [await reader.pools(signal), await reader.disks(signal)];
        const disks = all.filter((d) => !serial || d.serial === serial);
        if (disks.length === 0) return serial ? failed(`no drive with serial "${serial}" on ${info.hostname} (serials: ${all.map((d) => d.serial).filter(Boolean).join(', ')})`) : noData('the NAS lists no drives');
        const temps = await reader.temperatures(disks.map((d) => d.name), signal);
        const smart = await reader.smartResults(signal);
        const { poolOf } = membership(pools, all);
        const { rows, more } = capped(
          disks.map((d) => {
            const h = driveFromTrueNas(d, info.hostname, temps[d.name], smart?.find((r) => r.disk === d.name));
            return { subject: diskSubject(d, info.hostname), name: d.name, model: d.model, serial: d.serial, size_bytes: d.size ?? undefined, pool: poolOf.get(d.identifier || d.name) ?? '', temperature_c: h.temperatureC, selftest_latest: h.selfTest?.latest ? `${h.selfTest.latest.type}: ${h.selfTest.latest.status}` : undefined };
          }),
        );
        const lines = rows.map((r) => `${r.name} ${r.model} serial ${r.serial || '?'}${r.pool ? `, pool ${r.pool}` : ''}${r.temperature_c !== undefined ? `, ${r.temperature_c} °C` : ''}${r.selftest_latest ? `, last self-test ${r.selftest_latest}` : ''}`);
        if (!smart) lines.push('(no self-test log: this TrueNAS release has no SMART methods in its API)');
        return ok({ disks: rows, more }, [...lines, ...moreLine(more)].join('\n'));
      }),
  });
}

function alertsTool(reader: TrueNasReader): ToolSpec {
  return defineTool({
    name: 'truenas_alerts',
    title: "TrueNAS's own alerts",
    description:
      'The alerts TrueNAS itself raises (its Alerts bell): level (INFO … EMERGENCY), class, text, since when. Dismissed ones only with ' +
      `dismissed: true. Call it for any NAS anomaly: TrueNAS often says more (SMART, enclosure, UPS, replication) than the API shows. At most ${MAX_ROWS}.`,
    input: { dismissed: z.boolean().default(false).describe('also list dismissed alerts') },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'truenas' && a.subject.startsWith('truenas-alert:') ? {} : undefined),
    run: ({ dismissed }, signal) =>
      guarded(async () => {
        const all = (await reader.alerts(signal)).filter((a) => dismissed || !a.dismissed);
        if (all.length === 0) return noData(`TrueNAS lists no ${dismissed ? '' : 'undismissed '}alerts`);
        const { rows, more } = capped(all.map((a) => ({ level: a.level, klass: a.klass, text: (a.formatted ?? a.text).slice(0, 500), since: a.datetime ?? '', dismissed: a.dismissed })));
        return ok({ alerts: rows, more }, [...rows.map((r) => `${r.level} ${r.klass}${r.dismissed ? ' (dismissed)' : ''}: ${r.text}`), ...moreLine(more)].join('\n'));
      }),
  });
}

function tasksTool(reader: TrueNasReader): ToolSpec {
  return defineTool({
    name: 'truenas_tasks',
    title: 'TrueNAS replication, cloud sync, snapshot tasks and apps',
    description:
      "The NAS's data-protection tasks with their last run (state, error text): replication, cloud sync and periodic snapshot tasks; and its " +
      'apps with their state (RUNNING, STOPPED, CRASHED …). Call it for a failed task or an app that is down. failed_only: true lists only failures and apps not running.',
    input: { failed_only: z.boolean().default(false).describe('only failed tasks and apps not running') },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'truenas' && /^truenas-(task|app):/.test(a.subject) ? { failed_only: true } : undefined),
    run: ({ failed_only }, signal) =>
      guarded(async () => {
        const at = new Date().toISOString();
        const tasks = taskObservations(taskRows(await reader.replications(signal), await reader.cloudSyncs(signal), await reader.snapshotTasks(signal)), '', at).map((o) => o.values);
        const apps = appObservations((await reader.apps(signal)) ?? [], '', at).map((o) => o.values);
        const t = tasks.filter((v) => !failed_only || v.failed === true);
        const a = apps.filter((v) => !failed_only || v.state !== 'RUNNING');
        if (t.length + a.length === 0) return noData(failed_only ? 'no failed task and every app is running' : 'the NAS has no replication, cloud sync or snapshot tasks and no apps');
        const T = capped(t);
        const A = capped(a);
        const lines = [...T.rows.map((v) => `${String(v.type)} ${String(v.name)}: ${String(v.state)}${v.error ? ` — ${String(v.error)}` : ''}`), ...A.rows.map((v) => `app ${String(v.name)}: ${String(v.state)}`)];
        return ok({ tasks: T.rows, apps: A.rows, more: T.more + A.more }, [...lines, ...moreLine(T.more + A.more)].join('\n'));
      }),
  });
}

function interfacesTool(reader: TrueNasReader): ToolSpec {
  return defineTool({
    name: 'truenas_interfaces',
    title: 'TrueNAS network interfaces',
    description:
      "The NAS's network interfaces: link up/down, MTU, VLAN tag and parent, addresses. TrueNAS reports no error counters. Call it for an " +
      'MTU mismatch or a NAS that is unreachable on one network.',
    input: {},
    annotations: READ_ONLY,
    run: (_input, signal) =>
      guarded(async () => {
        const list = interfaceObservations(await reader.interfaces(signal), '', new Date().toISOString()).map((o) => o.values);
        if (list.length === 0) return noData('the NAS lists no interfaces');
        const { rows, more } = capped(list);
        return ok({ interfaces: rows, more }, [...rows.map((v) => `${String(v.name)} ${String(v.state)}${v.mtu ? `, MTU ${String(v.mtu)}` : ''}${v.vlan_id !== undefined ? `, VLAN ${String(v.vlan_id)} on ${String(v.parent)}` : ''}${v.addresses ? `, ${String(v.addresses)}` : ''}`), ...moreLine(more)].join('\n'));
      }),
  });
}

export function truenasTools(reader: TrueNasReader): ToolSpec[] {
  return [poolsTool(reader), disksTool(reader), alertsTool(reader), tasksTool(reader), interfacesTool(reader)];
}
