/** For connectors that run a command: is it installed, and is watching on (`enabled: auto`)? */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from '../telemetry/log.ts';

/** Is this binary runnable (a path, or a name found on PATH)? */
export function onPath(binary: string): boolean {
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, binary));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** what was said already, per logger: `enabled` is asked for each part a connector builds */
const saidFor = new WeakMap<Logger, Set<string>>();

/** `enabled: auto` means when the binary is installed; said once per logger when it is not. */
export function watching(name: string, enabled: boolean | 'auto', binary: string, log?: Logger): boolean {
  if (enabled !== 'auto') return enabled;
  const found = onPath(binary);
  if (!found && log) {
    const done = saidFor.get(log) ?? new Set<string>();
    if (!done.has(name)) log.info({ collector: name, binary }, `${binary} not found: ${name} watching is off (set watch.${name}.enabled: true to insist)`);
    done.add(name);
    saidFor.set(log, done);
  }
  return found;
}
