/** The network_paths tool: the lab's network paths as labwatch has seen them, across every system it reads. */
import * as z from 'zod';
import { defineTool, noData, ok, READ_ONLY, type ToolSpec } from '../tools/types.ts';
import type { NetworkPaths } from './paths.ts';

export function networkPathsTool(paths: NetworkPaths): ToolSpec {
  return defineTool({
    name: 'network_paths',
    title: "The lab's network paths and their MTUs",
    description:
      'Every network path labwatch has seen across the systems it reads (hosts, Proxmox bridges, TrueNAS, OPNsense …): the ' +
      'interfaces on one VLAN, or in a group the owner named in network.mtu_groups, each as host:interface with its MTU, and which ' +
      'members differ from the rest. Call it for "the network is slow" between two systems, stalled NFS/iSCSI/backups, or to find ' +
      'the other end of an interface. Members not heard from for a day are left out. Empty means no interface with an MTU on a ' +
      'VLAN or a named group has been read yet.',
    input: { path: z.string().regex(/^[\w.-]{1,64}$/).optional().describe('one path by name, e.g. vlan20 or storage') },
    annotations: READ_ONLY,
    run: async ({ path }) => {
      const views = await paths.list(new Date(), path);
      if (views.length === 0) return noData(path ? `no path named ${path} has fresh members` : 'no network path seen yet');
      const lines = views.map(
        (v) =>
          `${v.path}: ${v.members.map((m) => `${m.member} ${m.mtu}`).join(', ')}` +
          (v.expected !== undefined ? ` — MTU DIFFERS: ${v.odd_ones!.join(', ')} should be ${v.expected} like the rest (or the rest ${Math.min(...v.members.map((m) => m.mtu))})` : ' — one MTU'),
      );
      return ok({ paths: views }, lines.join('\n'));
    },
  });
}
