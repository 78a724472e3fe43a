/**
 * `zpool list` → PoolUsage[] (pools only; `-v` vdev rows are skipped).
 *
 * - With a header, columns are found by name, so versions without CKPOINT work too. Without one
 *   (`-H`: single tabs, no header) the default column order is assumed, with or without CKPOINT
 *   (told apart by the number of fields).
 * - `-p` prints exact bytes, bare FRAG/CAP and DEDUP without `x`; otherwise sizes are binary-unit
 *   human sizes (`19.9G`), `33%`, `1.00x`. `-` (unknown, or a FAULTED pool) → absent.
 * - `-v` rows are indented (spaces) or start with a tab (`-H`); class header rows (`logs`,
 *   `cache`, …) are not indented but every other column is `-`.
 */
import type { PoolUsage } from './types.ts';
import { parseZpoolJsonEnvelope } from './parse-status-json.ts';
import { ZpoolParseError, parseBytes, quoteFirstLine, quoted } from './parse-status-text.ts';

const DEFAULT_COLUMNS = ['NAME', 'SIZE', 'ALLOC', 'FREE', 'CKPOINT', 'EXPANDSZ', 'FRAG', 'CAP', 'DEDUP', 'HEALTH', 'ALTROOT'];
const COLUMNS_WITHOUT_CKPOINT = DEFAULT_COLUMNS.filter((c) => c !== 'CKPOINT');
/** Rows `zpool list -v` prints for allocation classes; their other columns are all `-`. */
const CLASS_ROWS = new Set(['logs', 'cache', 'spare', 'spares', 'special', 'dedup']);

const absent = (s: string | undefined) => s === undefined || s === '-' || s === '';

function bytesOf(s: string | undefined, column: string, row: string): number | undefined {
  if (absent(s)) return undefined;
  const n = parseBytes(s);
  if (n === undefined) throw new ZpoolParseError(`expected a size in the ${column} column of \`zpool list\` row ${quoted(row)}, got ${quoted(s!)}`);
  return n;
}

/** `9`, `33%`, `1.00`, `1.00x` → number. */
function numberOf(s: string | undefined, suffix: '%' | 'x', column: string, row: string): number | undefined {
  if (absent(s)) return undefined;
  const m = new RegExp(`^(\\d+(?:[.,]\\d+)?)\\${suffix}?$`).exec(s!);
  if (!m) throw new ZpoolParseError(`expected a number in the ${column} column of \`zpool list\` row ${quoted(row)}, got ${quoted(s!)}`);
  return Number(m[1]!.replace(',', '.'));
}

function usageFrom(get: (column: string) => string | undefined, row: string): PoolUsage {
  const usage: PoolUsage = { name: get('NAME')!, health: get('HEALTH') ?? '' };
  const set = <K extends keyof PoolUsage>(k: K, v: PoolUsage[K] | undefined) => {
    if (v !== undefined) usage[k] = v;
  };
  set('sizeBytes', bytesOf(get('SIZE'), 'SIZE', row));
  set('allocBytes', bytesOf(get('ALLOC'), 'ALLOC', row));
  set('freeBytes', bytesOf(get('FREE'), 'FREE', row));
  set('fragmentationPct', numberOf(get('FRAG'), '%', 'FRAG', row));
  set('capacityPct', numberOf(get('CAP'), '%', 'CAP', row));
  set('dedupRatio', numberOf(get('DEDUP'), 'x', 'DEDUP', row));
  return usage;
}

export function parseZpoolList(text: string): PoolUsage[] {
  try {
    return listRows(text);
  } catch (e) {
    if (e instanceof ZpoolParseError) throw new ZpoolParseError(`${e.message}; the first line received was ${quoteFirstLine(text)}`);
    throw e;
  }
}

function listRows(text: string): PoolUsage[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let header: string[] | undefined;
  const firstFields = lines[0]?.trim().split(/\s+/) ?? [];
  if (firstFields[0] === 'NAME' && firstFields.includes('HEALTH')) {
    header = firstFields;
    lines.shift();
  }
  const pools: PoolUsage[] = [];
  for (const line of lines) {
    if (/^\s/.test(line)) continue; // a -v vdev row
    const fields = line.trim().split(/\s+/);
    if (CLASS_ROWS.has(fields[0]!) && fields.slice(1).every((f) => f === '-')) continue;
    const columns = header ?? (fields.length === COLUMNS_WITHOUT_CKPOINT.length ? COLUMNS_WITHOUT_CKPOINT : DEFAULT_COLUMNS);
    const needed = columns.indexOf('HEALTH') + 1 || columns.length;
    if (fields.length < needed) {
      throw new ZpoolParseError(
        `expected a \`zpool list\` row with at least ${needed} columns (${columns.slice(0, needed).join(' ')}), ` +
          `got ${fields.length} in ${quoted(line)}`,
      );
    }
    pools.push(usageFrom((c) => {
      const i = columns.indexOf(c);
      return i < 0 ? undefined : fields[i];
    }, line));
  }
  return pools;
}

/** `zpool list -j`: each property is `{value, source}`; values are strings, or numbers with `--json-int`. */
export function parseZpoolListJson(text: string): PoolUsage[] {
  const pools = parseZpoolJsonEnvelope(text, 'zpool list');
  const out: PoolUsage[] = [];
  for (const [key, p] of Object.entries(pools)) {
    if (typeof p !== 'object' || p === null) continue;
    const pool = p as Record<string, unknown>;
    const props = (typeof pool.properties === 'object' && pool.properties !== null ? pool.properties : {}) as Record<string, unknown>;
    const value = (prop: string): string | undefined => {
      const v = props[prop];
      const raw = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).value : undefined;
      return typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;
    };
    const name = typeof pool.name === 'string' ? pool.name : key;
    const byColumn: Record<string, string | undefined> = {
      NAME: name,
      SIZE: value('size'),
      ALLOC: value('allocated'),
      FREE: value('free'),
      FRAG: value('fragmentation'),
      CAP: value('capacity'),
      DEDUP: value('dedupratio'),
      HEALTH: value('health') ?? (typeof pool.state === 'string' ? pool.state : undefined),
    };
    out.push(usageFrom((c) => byColumn[c], `${name} (JSON)`));
  }
  return out;
}
