/**
 * What a set of offered tools says about the lab: its systems and where to start. The triage and
 * ask prompts and the MCP server's instructions are built from this, so they name only the systems
 * whose tools are offered now (enabled, and answering), never a fixed list.
 */
import type { ToolSpec } from './types.ts';

export interface LabView {
  /** each system once, in the order its tools come */
  systems: string[];
  /** the tools to start with */
  start: string[];
}

export function labView(tools: readonly ToolSpec[]): LabView {
  const systems = [...new Set(tools.flatMap((t) => (t.system ? [t.system] : [])))];
  return { systems, start: tools.filter((t) => t.starts).map((t) => t.name) };
}

/** "a, b and c" (or "a, b or c") */
export function listed(items: readonly string[], last: 'and' | 'or' = 'and'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)}`;
}
