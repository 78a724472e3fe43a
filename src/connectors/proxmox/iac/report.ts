/**
 * A comparison as a person reads it: one block per guest with a table of the fields where code
 * and the lab disagree (field, code, live), then one summary line; and the same as JSON for
 * scripts (`driftData`).
 */
import type { GuestDrift } from './model.ts';

interface DriftCounts {
  guests: number;
  in_sync: number;
  drifted: number;
  not_in_lab: number;
  no_code: number;
  /** declared guests that cannot be matched (vmid and name unknown, or a name several guests share): neither drift nor in sync */
  unmatched: number;
  /** fields code states with a value labwatch could not resolve (of the guests that were matched) */
  unknown: number;
}

export function driftCounts(drifts: GuestDrift[]): DriftCounts {
  const n = (s: GuestDrift['state']) => drifts.filter((d) => d.state === s).length;
  return {
    guests: drifts.length,
    in_sync: n('in-sync'),
    drifted: n('drifted'),
    not_in_lab: n('not-in-lab'),
    no_code: n('no-code'),
    unmatched: n('unmatched'),
    unknown: drifts.filter((d) => d.state !== 'unmatched').reduce((sum, d) => sum + d.fields.filter((f) => f.verdict === 'unknown').length, 0),
  };
}

export function summaryLine(c: DriftCounts): string {
  const parts = [`${c.drifted} drifted`, `${c.in_sync} in sync`];
  if (c.not_in_lab) parts.push(`${c.not_in_lab} declared but not in the lab`);
  if (c.no_code) parts.push(`${c.no_code} in the lab without code`);
  if (c.unmatched) parts.push(`${c.unmatched} declared but not matched to a live guest (not compared)`);
  if (c.unknown) parts.push(`${c.unknown} value${c.unknown > 1 ? 's' : ''} code states could not be resolved (unknown)`);
  return `${c.guests} guest${c.guests === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

const STATE: Record<GuestDrift['state'], string> = { 'in-sync': 'in sync', drifted: 'DRIFTED', 'not-in-lab': 'NOT IN THE LAB', 'no-code': 'no code declares it', unmatched: 'NOT MATCHED, not compared' };

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')}`.trimEnd());
}

/** One guest's block: its heading, then the table of fields that differ or are unknown. */
function guestBlock(d: GuestDrift): string[] {
  const id = d.vmid !== undefined ? `${d.kind === 'lxc' ? 'ct' : 'vm'}:${d.vmid} ${d.name}` : `${d.kind === 'lxc' ? 'container' : 'VM'} ${d.name}`;
  const where = d.where ? ` (${d.where.file}${d.where.line ? `:${d.where.line}` : ''}: ${d.where.address})` : '';
  const node = d.node ? ` on ${d.node}` : '';
  const head = `${id}${node}: ${STATE[d.state]}${where}`;
  const problems = (d.problems ?? []).map((p) => `  problem: ${p}`);
  if (d.state === 'in-sync' && d.fields.length === 0) return [`${head}; ${d.checked?.length ? `agrees on ${d.checked.join(', ')}` : 'code states nothing labwatch compares'}`, ...problems];
  if (d.state === 'no-code' || (d.state === 'not-in-lab' && d.fields.length === 0)) return [head, ...problems];
  return [head, ...problems, ...table([['field', 'code', 'live'], ...d.fields.map((f) => [f.field, f.verdict === 'unknown' ? `unknown: ${f.code}` : f.code, f.live])])];
}

/** The whole comparison as text: each guest, then the summary line. */
export function driftText(drifts: GuestDrift[]): string {
  if (drifts.length === 0) return 'no guest in the code and none in the lab';
  return [...drifts.flatMap(guestBlock), '', summaryLine(driftCounts(drifts))].join('\n');
}
