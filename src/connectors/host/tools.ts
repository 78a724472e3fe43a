/** Host diagnostic tools, over the same reader the collector uses. */
import { defineTool, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import { readHost, type HostState } from './read.ts';

export function hostTools(read: () => Promise<HostState> = readHost): ToolSpec[] {
  return [
    defineTool({
      name: 'host_overview',
      title: 'Host filesystems, memory, load and network',
      description:
        'The state of the host labwatch runs on: every real filesystem (size, used %, read-only), memory and swap use, load ' +
        'averages against the core count, CPU temperature where the hardware reports one, and each network interface (state, MTU, ' +
        'speed, receive/transmit error and drop counters, which only grow).',
      input: {},
      annotations: READ_ONLY,
      run: async () => {
        const h = await read();
        return ok(h as unknown as Record<string, unknown>, `${h.filesystems.length} filesystems, memory ${h.memory.usedPct}% used, load ${h.cpu.load5} on ${h.cpu.cores} cores, ${h.interfaces.length} interfaces`);
      },
    }),
  ];
}
