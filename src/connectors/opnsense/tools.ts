/** OPNsense diagnostic tools, over the reader the collector uses: interfaces and VLANs, gateways, system. */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import { ApiError, apiGuarded as guarded } from '../api-client.ts';
import { interfaceValues, linkRows } from './interfaces.ts';
import type { OpnsenseReader } from './read.ts';
import { filesystemObservations, gatewayObservation, noticeObservations, systemObservation } from './system.ts';

const MAX_ROWS = 100;


export function opnsenseTools(reader: OpnsenseReader, host: string): ToolSpec[] {
  const interfaces = defineTool({
    name: 'opnsense_interfaces',
    title: 'OPNsense interfaces and VLANs',
    description:
      'The OPNsense firewall\'s interfaces and VLANs: device name (igb1, ax0_vlan81, vlan0.20), its label (LAN, WAN, …), link state, ' +
      'MTU, VLAN tag and parent, media (speed and duplex, e.g. "1000baseT <full-duplex>"), and the counters since boot: rx/tx errors ' +
      '(FreeBSD counts CRC and framing errors as input errors), rx/tx drops. A counter OPNsense reports as a wrapped 64-bit value ' +
      `is left out and named in invalid_counters. At most ${MAX_ROWS} rows. Call it for interface errors, a VLAN that does not pass ` +
      'traffic or an MTU question; counters are totals, so compare two calls minutes apart to see growth.',
    input: {
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/).optional().describe('one interface: its device name (igb1, ax0_vlan81) or its label (LAN); default all'),
      vlan: z.number().int().min(1).max(4094).optional().describe('only the VLAN with this tag (and, for context, its parent)'),
    },
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'opnsense' && a.subject.startsWith('if:') ? { name: a.subject.slice(3) } : undefined),
    run: ({ name, vlan }, signal) =>
      guarded(async () => {
        const [ifaces, netstat] = await Promise.all([reader.interfaces(signal), reader.netstat(signal).catch(() => [])]);
        const links = linkRows(netstat);
        const rows = ifaces.map((i) => interfaceValues(i, links.get(i.device)));
        if (name && !rows.some((r) => r.name === name || r.description === name)) return failed(`no interface "${name}" on this firewall (interfaces: ${rows.map((r) => String(r.name)).join(', ')})`);
        const vlanParent = vlan !== undefined ? rows.find((r) => r.vlan_id === vlan)?.parent : undefined;
        const picked = rows.filter((r) => (!name || r.name === name || r.description === name) && (vlan === undefined || r.vlan_id === vlan || (vlanParent && r.name === vlanParent)));
        if (picked.length === 0) return noData(vlan !== undefined ? `no VLAN ${vlan} on this firewall` : 'the firewall lists no interfaces');
        const line = (r: Record<string, unknown>) =>
          `${String(r.name)}${r.description ? ` (${String(r.description)})` : ''}: ${String(r.state)}, MTU ${String(r.mtu ?? '?')}${r.vlan_id !== undefined ? `, VLAN ${String(r.vlan_id)} on ${String(r.parent) || '?'}` : ''}, ${String(r.rx_errors ?? '?')} rx / ${String(r.tx_errors ?? '?')} tx errors, ${String(r.rx_dropped ?? '?')} / ${String(r.tx_dropped ?? '?')} drops${r.invalid_counters ? ` (not valid: ${String(r.invalid_counters)})` : ''}${r.media ? `; ${String(r.media)}` : ''}`;
        const shown = picked.slice(0, MAX_ROWS);
        return ok({ interfaces: shown, total: picked.length, ...(picked.length > MAX_ROWS ? { truncated: picked.length - MAX_ROWS } : {}) }, shown.map(line).join('\n') + (picked.length > MAX_ROWS ? `\n(${picked.length - MAX_ROWS} more not shown: give a name or vlan)` : ''));
      }),
  });

  const gateways = defineTool({
    name: 'opnsense_gateways',
    title: 'OPNsense gateways',
    description:
      'Every gateway of the OPNsense firewall as its monitor (dpinger) sees it: status (none = online, down, force_down = marked down ' +
      'by the admin, delay, loss, delay+loss), packet loss %, average delay and its standard deviation in ms, and the monitored address. ' +
      '"not monitored" means monitoring is off for it and OPNsense simply counts it online. Call it for an internet outage, a slow or ' +
      'lossy uplink, or a failover question.',
    input: {},
    annotations: READ_ONLY,
    defaultFor: (a) => (a.subject.startsWith('gateway:') ? {} : undefined),
    run: (_i, signal) =>
      guarded(async () => {
        const gw = await reader.gateways(signal);
        if (gw.items.length === 0) return noData('the firewall reports no gateways (none configured, or its gateway monitor gave no status)');
        const rows = gw.items.slice(0, MAX_ROWS).map((g) => gatewayObservation(g, host, '').values);
        return ok({ gateways: rows }, gw.items.slice(0, MAX_ROWS).map((g) => gatewayObservation(g, host, '').summary).join('\n'));
      }),
  });

  const system = defineTool({
    name: 'opnsense_system',
    title: 'OPNsense system',
    description:
      'The OPNsense firewall itself: host name and versions (OPNsense, FreeBSD, OpenSSL), memory used (with and without the ZFS ARC ' +
      'cache), every filesystem\'s percent used, and the system\'s own notices (status entries other than OK: a crash report, a ' +
      'nearly full disk, a firewall rule problem …). Notices only show for subsystems whose log page the API user may open.',
    input: {},
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'opnsense' && /^(opnsense|opnsense-fs|opnsense-notice):/.test(a.subject) ? {} : undefined),
    run: (_i, signal) =>
      guarded(async () => {
        const note = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
        const [info, res, disks, status] = await Promise.all([
          reader.information(signal).catch((e: unknown) => ({ error: note(e) })),
          reader.resources(signal).catch((e: unknown) => ({ error: note(e) })),
          reader.disks(signal).catch((e: unknown) => ({ error: note(e) })),
          reader.status(signal).catch((e: unknown) => ({ error: note(e) })),
        ]);
        const errs = [info, res, disks, status].flatMap((x) => (x && typeof x === 'object' && 'error' in x && typeof x.error === 'string' ? [x.error] : []));
        if (errs.length === 4) return failed(errs.join('\n'));
        const memory = 'error' in res ? undefined : systemObservation(res.memory, host, '').values;
        const filesystems = Array.isArray(disks) ? filesystemObservations(disks, host, '').map((o) => o.values) : [];
        const notices = 'error' in status ? [] : noticeObservations(status, host, '').filter((o) => (o.values.status_code as number) < 2).map((o) => o.values);
        const versions = 'error' in info ? [] : (info.versions ?? []);
        const text = [
          `${'error' in info ? host : (info.name ?? host)}: ${versions.join(', ') || 'versions unknown'}`,
          memory?.mem_used_pct !== undefined ? `memory ${String(memory.mem_used_pct)} % used (${String(memory.mem_used_pct_with_arc)} % with the ZFS ARC)` : 'memory unknown',
          ...filesystems.map((f) => `${String(f.mount)}: ${String(f.used_pct)} % used`),
          notices.length ? `notices:\n${notices.map((n) => `  ${String(n.title)} (${String(n.level)}): ${String(n.message)}`).join('\n')}` : 'no notices',
          ...errs.map((e) => `not read: ${e}`),
        ].join('\n');
        return ok({ versions, memory: memory ?? null, filesystems: filesystems.slice(0, MAX_ROWS), notices: notices.slice(0, MAX_ROWS), ...(errs.length ? { errors: errs } : {}) }, text);
      }),
  });

  return [interfaces, gateways, system];
}
