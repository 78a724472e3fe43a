/**
 * Query results made small: one row per series (its labels, metric name first) with the value,
 * or for a range min/max/first/last and the point count; at most `maxSeries` rows, the rest
 * counted. Plus the step chooser and the duration parser the range tool uses.
 */
import type { HistogramSample, MatrixSeries, QueryData, Sample, VectorSeries } from './types.ts';

/** A value as JSON can hold it: a number, or Prometheus' own string for NaN and ±Inf. */
export type Value = number | string;

export interface Point {
  value: Value;
  at: string;
}

export interface VectorRow {
  series: string;
  value: Value;
  at: string;
}

export interface MatrixRow {
  series: string;
  points: number;
  first: Point;
  last: Point;
  min: Value;
  max: Value;
}

export interface QuerySummary {
  resultType: QueryData['resultType'];
  /** series in the result */
  seriesTotal: number;
  /** series left out by the cap */
  omitted: number;
  series?: VectorRow[] | MatrixRow[];
  /** for scalar and string results */
  value?: Point;
  /** what was left out and how to narrow the query */
  note?: string;
}

/** `up{instance="localhost:9090", job="prometheus"}`: the metric name first, the rest sorted. */
export function seriesName(metric: Record<string, string>): string {
  const { __name__: name = '', ...rest } = metric;
  const labels = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return `${name}{${labels.join(', ')}}`;
}

export function isoAt(unixSeconds: number): string {
  return new Date(Math.round(unixSeconds * 1000)).toISOString();
}

function toValue(s: string): Value {
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

function numberValue(n: number): Value {
  return Number.isFinite(n) ? n : Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
}

function histogramValue(h: HistogramSample): Value {
  return toValue(h.count);
}

function vectorRow(s: VectorSeries): VectorRow {
  const [t, v]: [number, Value] = s.value ? [s.value[0], toValue(s.value[1])] : s.histogram ? [s.histogram[0], histogramValue(s.histogram[1])] : [0, 'NaN'];
  const series = s.histogram && !s.value ? `${seriesName(s.metric)} (native histogram: observation count)` : seriesName(s.metric);
  return { series, value: v, at: isoAt(t) };
}

function matrixRow(s: MatrixSeries): MatrixRow {
  const pts: Sample[] = s.values ?? (s.histograms ?? []).map(([t, h]) => [t, h.count] as Sample);
  const nums = pts.map(([, v]) => Number(v)).filter((n) => !Number.isNaN(n));
  const point = (p: Sample | undefined): Point => (p ? { value: toValue(p[1]), at: isoAt(p[0]) } : { value: 'NaN', at: '' });
  const extreme = (f: (a: number, b: number) => number): Value => (nums.length ? numberValue(nums.reduce((a, b) => f(a, b))) : 'NaN');
  return {
    series: seriesName(s.metric) + (s.histograms && !s.values ? ' (native histogram: observation count)' : ''),
    points: pts.length,
    first: point(pts[0]),
    last: point(pts[pts.length - 1]),
    min: extreme(Math.min),
    max: extreme(Math.max),
  };
}

/** The advice when series were left out. */
function capNote(shown: number, total: number): string {
  return (
    `showing ${shown} of ${total} series; ${total - shown} left out. Narrow the query with a label matcher ` +
    `(e.g. {job="node"}), aggregate (sum by (instance) (…)), or keep the largest with topk(${Math.min(shown, 10)}, …)`
  );
}

export function summarise(data: QueryData, maxSeries: number): QuerySummary {
  switch (data.resultType) {
    case 'scalar':
    case 'string':
      return { resultType: data.resultType, seriesTotal: 0, omitted: 0, value: { value: data.resultType === 'scalar' ? toValue(data.result[1]) : data.result[1], at: isoAt(data.result[0]) } };
    case 'vector':
    case 'matrix': {
      const total = data.result.length;
      const shown = Math.min(total, maxSeries);
      const series = data.resultType === 'vector' ? data.result.slice(0, shown).map(vectorRow) : data.result.slice(0, shown).map(matrixRow);
      return { resultType: data.resultType, seriesTotal: total, omitted: total - shown, series, ...(total > shown ? { note: capNote(shown, total) } : {}) };
    }
  }
}

function fmt(v: Value): string {
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** The text a person reads: one line per series, then the cap note. */
export function summaryText(s: QuerySummary): string {
  if (s.value) return `${s.resultType} ${fmt(s.value.value)} at ${s.value.at}`;
  const lines: string[] = [];
  for (const row of s.series ?? []) {
    if ('points' in row) {
      lines.push(`${row.series}: last ${fmt(row.last.value)}, min ${fmt(row.min)}, max ${fmt(row.max)}, first ${fmt(row.first.value)} (${row.points} points, ${row.first.at} → ${row.last.at})`);
    } else lines.push(`${row.series} = ${fmt(row.value)}`);
  }
  if (s.note) lines.push(s.note);
  return lines.join('\n');
}

const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/**
 * The smallest "nice" step (1s … 15s, 30s, 1m, 5m, 15m, 1h … 1d, then whole days) that keeps a
 * series over [startSec, endSec] at no more than `maxPoints` points.
 */
export function chooseStep(startSec: number, endSec: number, maxPoints: number): number {
  if (!(endSec >= startSec)) throw new RangeError(`the range ends (${endSec}) before it starts (${startSec})`);
  if (!(maxPoints >= 1)) throw new RangeError(`maxPoints must be at least 1, not ${maxPoints}`);
  // floor(span / step) + 1 ≤ maxPoints  ⇔  step > span / maxPoints
  const least = (endSec - startSec) / maxPoints;
  return NICE_STEPS.find((s) => s > least) ?? (Math.floor(least / 86400) + 1) * 86400;
}

/** Points per series a range query returns: Prometheus evaluates at start, start+step, … ≤ end. */
export function pointsFor(startSec: number, endSec: number, stepSec: number): number {
  return Math.floor((endSec - startSec) / stepSec) + 1;
}

const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
export const DURATION_RE = /^(\d+(ms|s|m|h|d|w))+$/;

/** "90s", "5m", "1h30m", "7d", "2w" → seconds; undefined when it is not such a duration. */
export function parseDuration(s: string): number | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT[m[2]!]!;
  return total;
}

/** 90 → "1m30s", 604800 → "7d": for messages. */
export function formatDuration(sec: number): string {
  if (sec < 1) return `${Math.round(sec * 1000)}ms`;
  const parts: string[] = [];
  let rest = Math.round(sec);
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.join('') || '0s';
}
