/** Prometheus errors as tool results: the client's message plus, for query errors, what to try. */
import { failed, type ToolResult } from '../../tools/types.ts';
import { PrometheusError } from './client.ts';

/** What to try after a query error, by Prometheus' message and errorType. */
function queryHint(e: PrometheusError): string | undefined {
  if (e.kind !== 'query') return undefined;
  const m = e.details.promError ?? '';
  if (/too many samples/i.test(m))
    return 'this query would read too many samples: narrow the range, raise the step, or select fewer series (label matchers, sum by (…)) first';
  if (/maximum resolution|points per timeseries/i.test(m)) return 'raise the step (or leave it out to have one chosen)';
  if (/parse error|unexpected|unknown function|could not parse/i.test(m))
    return 'fix the PromQL syntax (brackets, quotes, function names, a range like [5m] only on a selector)';
  if (/many-to-many|duplicate series|multiple matches/i.test(m))
    return 'both sides of the operation match several series: add on(…)/ignoring(…), or group_left/group_right';
  if (e.details.errorType === 'timeout')
    return "the query ran past Prometheus' --query.timeout: shorten the range, raise the step, or aggregate first";
  if (e.details.errorType === 'canceled' || e.details.errorType === 'unavailable') return 'Prometheus was busy or shutting down: try again shortly';
  return undefined;
}

/** Runs `fn`; a PrometheusError becomes failed() with its message and, for query errors, a hint. */
export async function guarded(fn: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof PrometheusError)) throw e;
    const hint = queryHint(e);
    return failed(hint ? `${e.message}\nHint: ${hint}` : e.message);
  }
}

