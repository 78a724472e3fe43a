/** Prometheus diagnostic tools: PromQL queries, alerts, scrape targets and rules, all read-only. */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolResult, type ToolSpec } from '../../tools/types.ts';
import type { PrometheusClient } from './client.ts';
import { guarded } from './guard.ts';
import { chooseStep, DURATION_RE, formatDuration, isoAt, parseDuration, pointsFor, summarise, summaryText } from './summarise.ts';
import { alertsTool, rulesTool, targetsTool } from './tools-status.ts';

export interface PrometheusToolOptions {
  /** most series (alerts, targets, rules) listed; the rest are counted */
  maxSeries: number;
  /** most points per series a range query may return */
  maxPoints: number;
  /** the clock, for tests; default Date.now */
  now?: () => number;
}

const MAX_RANGE_SECONDS = 31 * 86400;
const DEFAULT_RANGE = '1h';

const exprSchema = z
  .string()
  .trim()
  .min(1, 'a PromQL expression')
  .max(4000, 'a PromQL expression of at most 4000 characters')
  .describe('the PromQL expression, e.g. up{job="node"} or rate(node_network_receive_bytes_total[5m])');

const TIME_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
/** RFC 3339 (UTC when no zone is given) or unix seconds → epoch ms. */
function parseTime(s: string): number | undefined {
  if (/^\d{9,10}(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (!TIME_RE.test(s)) return undefined;
  const zoned = s.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(s) ? `${s}Z` : s;
  const t = Date.parse(zoned);
  return Number.isNaN(t) ? undefined : t;
}
const timeSchema = z
  .string()
  .refine((s) => parseTime(s) !== undefined, 'an RFC 3339 time such as "2026-11-24T18:00:00Z" (UTC when no zone is given) or unix seconds');

const rangeSchema = z
  .string()
  .regex(DURATION_RE, 'a duration such as "15m", "1h", "6h" or "7d"')
  .refine((s) => (parseDuration(s) ?? 0) >= 1, 'a duration of at least 1s')
  .refine((s) => (parseDuration(s) ?? 0) <= MAX_RANGE_SECONDS, 'at most 31d');
const stepSchema = z
  .string()
  .regex(DURATION_RE, 'a duration such as "15s", "1m" or "5m"')
  .refine((s) => (parseDuration(s) ?? 0) >= 1, 'a step of at least 1s');

/** A PromQL string literal: backslashes, quotes and line breaks escaped. */
function promString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

function withWarnings(text: string, warnings: string[]): string {
  return warnings.length ? `${text}\nPrometheus warns: ${warnings.join('; ')}` : text;
}

function noSeries(expr: string, when: string, warnings: string[]): ToolResult {
  return noData(
    withWarnings(
      `\`${expr}\` returned no series ${when}. The metric may not exist or not be scraped, or the label matchers match nothing: ` +
        'try a broader selector (drop a label matcher, or count by (__name__) ({job="…"})) or prometheus_targets to see what is scraped.',
      warnings,
    ),
  );
}

export function prometheusTools(client: PrometheusClient, opts: PrometheusToolOptions): ToolSpec[] {
  const now = opts.now ?? Date.now;

  const queryShape = {
    expr: exprSchema,
    time: timeSchema.optional().describe('evaluate at this instant instead of now: RFC 3339 ("2026-11-24T18:00:00Z") or unix seconds'),
  };
  const query = defineTool({
    name: 'prometheus_query',
    title: 'Prometheus instant query',
    description:
      'Evaluates a PromQL expression at one instant (now, or `time`) and returns each series with its labels and current value ' +
      `(at most ${opts.maxSeries} series; the rest are counted, so aggregate or use topk for large results). Use it to check a ` +
      'current value: up{instance="…"} (1 = scraped fine, 0 = scrape failing), node_filesystem_avail_bytes, rate(…[5m]). ' +
      'For how a value changed over time use prometheus_query_range. "no series" means the metric or label matchers match nothing.',
    input: queryShape,
    annotations: READ_ONLY,
    defaultFor: (a) =>
      (a.source === 'alertmanager' || a.source === 'prometheus') && a.labels.instance ? { expr: `up{instance=${promString(a.labels.instance)}}` } : undefined,
    run: ({ expr, time }, signal) =>
      guarded(async () => {
        const at = time !== undefined ? new Date(parseTime(time)!) : undefined;
        const r = await client.query(expr, at, { signal });
        const s = summarise(r.data, opts.maxSeries);
        const when = at ? `at ${at.toISOString()}` : 'now';
        if (s.seriesTotal === 0 && !s.value) return noSeries(expr, when, r.warnings);
        const head = s.value ? `\`${expr}\` ${when}:` : `\`${expr}\` ${when}: ${s.seriesTotal} series`;
        return ok({ expr, ...(at ? { time: at.toISOString() } : {}), ...s, ...(r.warnings.length ? { warnings: r.warnings } : {}) }, withWarnings(`${head}\n${summaryText(s)}`, r.warnings));
      }),
  });

  const rangeShape = {
    expr: exprSchema,
    range: rangeSchema
      .optional()
      .describe(`how far back from \`end\` (default now): "15m", "1h", "6h", "7d"; at most 31d. Default ${DEFAULT_RANGE} when neither range nor start is given`),
    start: timeSchema.optional().describe('start instead of range: RFC 3339 ("2026-11-24T06:00:00Z") or unix seconds'),
    end: timeSchema.optional().describe('end of the window (default now): RFC 3339 or unix seconds'),
    step: stepSchema
      .optional()
      .describe(`seconds between points ("30s", "5m"); leave it out to have one chosen that keeps each series at ≤ ${opts.maxPoints} points`),
  };
  const range = defineTool({
    name: 'prometheus_query_range',
    title: 'Prometheus range query',
    description:
      'Evaluates a PromQL expression over a time window (the last `range`, or start..end; at most 31 days) and summarises each ' +
      'series: first, last, min and max value and the number of points, not the raw points. Use it to see whether something ' +
      'changed, when a target went down (min of up = 0), or a trend (disk filling, memory growing). At most ' +
      `${opts.maxSeries} series are listed; aggregate (sum by (…)) or use topk for more. The step is chosen for you unless given.`,
    input: rangeShape,
    annotations: READ_ONLY,
    run: (input, signal) =>
      guarded(async () => {
        const { expr } = input;
        if (input.range !== undefined && input.start !== undefined)
          return failed('give either range (counted back from end) or start, not both');
        const endMs = input.end !== undefined ? parseTime(input.end)! : now();
        const startMs = input.start !== undefined ? parseTime(input.start)! : endMs - parseDuration(input.range ?? DEFAULT_RANGE)! * 1000;
        const startSec = startMs / 1000;
        const endSec = endMs / 1000;
        if (endSec <= startSec) return failed(`the window is empty: end ${isoAt(endSec)} is not after start ${isoAt(startSec)}`);
        const span = endSec - startSec;
        if (span > MAX_RANGE_SECONDS)
          return failed(`the window ${isoAt(startSec)} → ${isoAt(endSec)} is ${formatDuration(span)} long, more than the 31 days allowed: shorten it`);
        const least = chooseStep(startSec, endSec, opts.maxPoints);
        let step = least;
        if (input.step !== undefined) {
          step = parseDuration(input.step)!;
          const pts = pointsFor(startSec, endSec, step);
          if (pts > opts.maxPoints)
            return failed(
              `step ${input.step} over ${formatDuration(span)} gives ${pts} points per series, more than the ${opts.maxPoints} allowed: ` +
                `use a step of at least ${formatDuration(least)}, or leave step out to have one chosen`,
            );
        }
        const r = await client.queryRange(expr, startSec, endSec, step, { signal });
        const s = summarise(r.data, opts.maxSeries);
        const window = `over ${formatDuration(span)} (${isoAt(startSec)} → ${isoAt(endSec)}, step ${formatDuration(step)})`;
        if (s.seriesTotal === 0 && !s.value) return noSeries(expr, window, r.warnings);
        return ok(
          { expr, start: isoAt(startSec), end: isoAt(endSec), stepSeconds: step, ...s, ...(r.warnings.length ? { warnings: r.warnings } : {}) },
          withWarnings(`\`${expr}\` ${window}: ${s.seriesTotal} series\n${summaryText(s)}`, r.warnings),
        );
      }),
  });

  return [
    query,
    range,
    alertsTool(client, opts.maxSeries),
    targetsTool(client, opts.maxSeries, now),
    rulesTool(client, opts.maxSeries),
  ];
}
