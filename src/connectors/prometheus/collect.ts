/**
 * PromQL rules → observations. Each rule with `source: prometheus` and a `query` is run as an
 * instant query; every returned series becomes an observation for that rule alone (`values.value`
 * plus the series' labels), so CEL conditions, `for:`, grouping and reports work as for any
 * collector. A series that stops being returned is reported gone, which resolves what it fired.
 *
 * Queries should return every series and let `when:` decide (`up` with `values.value == 0`, not
 * `up == 0`): then "fine" is a reading, not a silence. A query Prometheus rejects is an
 * observation of kind `query` (a shipped rule raises it); Prometheus unreachable fails the run.
 */
import type { Observation } from '../types.ts';
import type { Collector, ReadingContext, RuleQuery } from '../types.ts';
import { PrometheusError, type PrometheusClient, type QueryData } from './client.ts';
import { hostOfInstance } from '../identity.ts';

const SOURCE = 'prometheus';

/** A series' default subject: its instance (or job), then its other labels: "nas:9100/device=eth0". */
function defaultSubject(labels: Record<string, string>): string {
  const head = labels.instance ?? labels.job ?? 'prometheus';
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__' && k !== 'instance' && k !== 'job')
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return [head, ...rest].join('/');
}

function seriesOf(data: QueryData): { labels: Record<string, string>; value: number }[] {
  const num = (s: string) => Number(s); // "NaN", "+Inf" → NaN, Infinity: conditions see them as numbers
  if (data.resultType === 'vector') return data.result.flatMap((s) => (s.value ? [{ labels: s.metric, value: num(s.value[1]) }] : []));
  if (data.resultType === 'scalar') return [{ labels: {}, value: num(data.result[1]) }];
  if (data.resultType === 'matrix') throw new Error('the query returns a range vector; a rule needs an instant vector (drop the [range] or wrap it in a function such as rate())');
  return [];
}

export interface PrometheusCollectorOptions {
  host: string;
  client: PrometheusClient;
  /** the current rules (they change on reload) */
  rules: () => RuleQuery[];
  /** queries run at once */
  concurrency?: number;
}

export function prometheusCollector(opts: PrometheusCollectorOptions): Collector {
  /** per rule: what each subject returned last, to report the ones that vanish */
  const last = new Map<string, Map<string, Observation>>();
  return {
    name: SOURCE,
    async collect(signal) {
      const rules = opts.rules().filter((r) => r.source === SOURCE && r.query);
      const at = new Date().toISOString();
      const out: Observation[] = [];
      let unreachable: PrometheusError | undefined;
      const runOne = async (rule: RuleQuery) => {
        const health = (ok: boolean, error = '', series = 0): Observation => ({
          source: SOURCE, kind: 'query', subject: `query:${rule.id}`, host: opts.host, at, values: { ok, error, rule: rule.id, query: rule.query!, series },
        });
        let rows: { labels: Record<string, string>; value: number }[];
        try {
          rows = seriesOf((await opts.client.query(rule.query!, undefined, { signal })).data);
        } catch (e) {
          if (e instanceof PrometheusError && e.kind !== 'query') {
            unreachable ??= e;
            return; // unknown, not gone: keep what we knew
          }
          out.push(health(false, (e as Error).message));
          return;
        }
        const seen = new Map<string, Observation>();
        for (const { labels, value } of rows) {
          const values: Record<string, unknown> = { ...labels, value };
          delete values.__name__;
          if (labels.__name__) values.metric = labels.__name__;
          const host = hostOfInstance(labels.instance) ?? opts.host;
          let subject = defaultSubject(labels);
          if (rule.subject) {
            const ctx: ReadingContext = { values, prev: {}, delta: {}, rate: {}, subject: '', host, now: new Date(at) };
            try {
              subject = rule.subject(ctx) || subject;
            } catch {
              /* a template that cannot be rendered for this series: keep the label-based subject */
            }
          }
          const obs: Observation = { source: SOURCE, kind: rule.kind, subject, host, at, values, rule: rule.id };
          seen.set(subject, obs);
        }
        for (const [subject, before] of last.get(rule.id) ?? []) if (!seen.has(subject)) out.push({ ...before, at, gone: true });
        last.set(rule.id, seen);
        out.push(...seen.values(), health(true, '', seen.size));
      };
      const queue = [...rules];
      const workers = Array.from({ length: Math.min(opts.concurrency ?? 4, queue.length) }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await runOne(r);
      });
      await Promise.all(workers);
      if (unreachable && out.length === 0) throw unreachable;
      return out;
    },
  };
}
