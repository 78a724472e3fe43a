/** Prometheus' own state as tools: its alerts, its scrape targets and its rule groups. */
import * as z from 'zod';
import { defineTool, noData, ok, READ_ONLY, type ToolSpec } from '../../tools/types.ts';
import type { PrometheusClient } from './client.ts';
import { guarded } from './guard.ts';
import { formatDuration, seriesName } from './summarise.ts';
import type { Rule } from './types.ts';

const nameFilter = z.string().min(1).max(200);
const clip = (s: string | undefined, n = 300) => (s && s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** "1 rule", "2 rules" */
const n = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
const more = (shown: number, total: number, noun: string, how: string) => (total > shown ? `${n(total - shown, `more ${noun}`)} not listed; ${how}` : undefined);

export function alertsTool(client: PrometheusClient, maxSeries: number): ToolSpec {
  const shape = {
    state: z.enum(['any', 'firing', 'pending']).default('any').describe('firing, pending (condition true but `for:` not yet met), or any'),
    alertname: nameFilter.optional().describe('only alerts with this alertname'),
  };
  return defineTool({
    name: 'prometheus_alerts',
    title: "Prometheus' active alerts",
    description:
      'The alerts Prometheus itself evaluates as firing or pending right now: alertname, labels, state, since when (activeAt), the ' +
      'value that triggered it and its summary. Silences in Alertmanager do not hide alerts here. Firing alerts are listed first, ' +
      `oldest first; at most ${maxSeries}. An empty list means no alerting rule's condition holds (see prometheus_rules for the rules).`,
    input: shape,
    annotations: READ_ONLY,
    run: ({ state, alertname }, signal) =>
      guarded(async () => {
        const { data } = await client.alerts({ signal });
        const rank = (s: string) => (s === 'firing' ? 0 : s === 'pending' ? 1 : 2);
        const all = data
          .filter((a) => (state === 'any' ? a.state === 'firing' || a.state === 'pending' : a.state === state))
          .filter((a) => !alertname || a.labels.alertname === alertname)
          .sort((a, b) => rank(a.state) - rank(b.state) || (a.activeAt ?? '').localeCompare(b.activeAt ?? ''));
        if (all.length === 0)
          return noData(`Prometheus has no ${state === 'any' ? 'firing or pending' : state} alerts${alertname ? ` named ${alertname}` : ''} right now`);
        const alerts = all.slice(0, maxSeries).map((a) => {
          const { alertname: name = '', ...labels } = a.labels;
          const v = Number(a.value);
          return {
            alertname: name,
            state: a.state,
            activeAt: a.activeAt,
            value: Number.isFinite(v) ? v : a.value,
            labels,
            ...(a.annotations?.summary ? { summary: clip(a.annotations.summary) } : {}),
            ...(a.annotations?.description ? { description: clip(a.annotations.description) } : {}),
          };
        });
        const firing = all.filter((a) => a.state === 'firing').length;
        const note = more(alerts.length, all.length, 'alert', 'filter by alertname or state');
        const lines = alerts.map(
          (a) => `${a.state.toUpperCase()} ${seriesName({ __name__: a.alertname, ...a.labels })} since ${a.activeAt ?? '?'} value ${a.value}${a.summary ? ` — ${a.summary}` : ''}`,
        );
        return ok(
          { total: all.length, firing, pending: all.length - firing, alerts, ...(note ? { note } : {}) },
          [`${n(all.length, 'alert')}: ${firing} firing, ${all.length - firing} pending`, ...lines, ...(note ? [note] : [])].join('\n'),
        );
      }),
  });
}

export function targetsTool(client: PrometheusClient, maxSeries: number, now: () => number): ToolSpec {
  const shape = {
    state: z
      .enum(['any', 'up', 'down', 'unknown'])
      .default('any')
      .describe("only targets whose last scrape's health is up, down (the scrape failed), or unknown (not scraped yet)"),
    job: nameFilter.optional().describe('only targets of this job (scrape pool), e.g. node'),
  };
  return defineTool({
    name: 'prometheus_targets',
    title: "Prometheus' scrape targets",
    description:
      'Every target Prometheus scrapes (active targets): job, instance, health (up, down, unknown), the last scrape error, when it ' +
      'was last scraped and how long it took. Down targets come first, with the error that says why (connection refused, timeout, ' +
      `HTTP 5xx). At most ${maxSeries} are listed. A target that is down makes its up series 0 and its other metrics go stale.`,
    input: shape,
    annotations: READ_ONLY,
    run: ({ state, job }, signal) =>
      guarded(async () => {
        const { data } = await client.targets('active', { signal });
        const rank = (h: string) => (h === 'down' ? 0 : h === 'unknown' ? 1 : 2);
        const ofJob = data.activeTargets.filter((t) => !job || t.labels.job === job || t.scrapePool === job);
        if (ofJob.length === 0)
          return noData(job ? `Prometheus scrapes no targets of job "${job}" (jobs: ${[...new Set(data.activeTargets.map((t) => t.labels.job))].join(', ') || 'none'})` : 'Prometheus has no active scrape targets');
        const count = (h: string) => ofJob.filter((t) => t.health === h).length;
        const counts = { up: count('up'), down: count('down'), unknown: ofJob.length - count('up') - count('down') };
        const all = ofJob
          .filter((t) => state === 'any' || t.health === state || (state === 'unknown' && t.health !== 'up' && t.health !== 'down'))
          .sort((a, b) => rank(a.health) - rank(b.health) || (a.labels.job ?? '').localeCompare(b.labels.job ?? '') || (a.labels.instance ?? '').localeCompare(b.labels.instance ?? ''));
        const head = `${n(ofJob.length, 'target')}${job ? ` of job ${job}` : ''}: ${counts.up} up, ${counts.down} down, ${counts.unknown} unknown`;
        if (all.length === 0) return noData(`${head}; none is ${state}`);
        const targets = all.slice(0, maxSeries).map((t) => ({
          job: t.labels.job ?? t.scrapePool,
          instance: t.labels.instance ?? '',
          health: t.health,
          lastError: clip(t.lastError) ?? '',
          lastScrape: t.lastScrape,
          lastScrapeSeconds: t.lastScrapeDuration,
          scrapeUrl: t.scrapeUrl,
        }));
        const ago = (iso: string) => {
          const ms = now() - Date.parse(iso);
          return Number.isNaN(ms) || iso.startsWith('0001') ? 'never scraped' : `last scrape ${formatDuration(Math.max(0, ms) / 1000)} ago`;
        };
        const note = more(targets.length, all.length, 'target', 'filter by job or state');
        const lines = targets.map((t) => `${t.health.toUpperCase()} ${t.job} ${t.instance} (${ago(t.lastScrape)})${t.lastError ? ` — ${t.lastError}` : ''}`);
        return ok({ ...counts, total: ofJob.length, targets, ...(note ? { note } : {}) }, [head, ...lines, ...(note ? [note] : [])].join('\n'));
      }),
  });
}

export function rulesTool(client: PrometheusClient, maxRules: number): ToolSpec {
  const shape = {
    type: z.enum(['alert', 'record']).optional().describe('only alerting rules (alert) or recording rules (record)'),
    group: nameFilter.optional().describe('only the rule group with this name'),
  };
  return defineTool({
    name: 'prometheus_rules',
    title: "Prometheus' rules",
    description:
      'The alerting and recording rules Prometheus has loaded, by group: each rule\'s name, type, health (ok, err = its last ' +
      'evaluation failed, with lastError) and, for alerting rules, state (inactive, pending, firing). Rules that fail or fire come ' +
      `first; at most ${maxRules} rules are listed. Use it to see why an expected alert does not fire or whether a rule is broken.`,
    input: shape,
    annotations: READ_ONLY,
    run: ({ type, group }, signal) =>
      guarded(async () => {
        const { data } = await client.rules(type, { signal });
        const groups = data.filter((g) => !group || g.name === group);
        if (groups.length === 0)
          return noData(group ? `no rule group "${group}" (groups: ${data.map((g) => g.name).join(', ') || 'none'})` : 'Prometheus has no rules loaded (see rule_files in prometheus.yml)');
        const rank = (r: Rule) => (r.health !== 'ok' && r.health !== 'unknown' ? 0 : r.state === 'firing' ? 1 : r.state === 'pending' ? 2 : 3);
        const flat = groups.flatMap((g, gi) => g.rules.map((r, ri) => ({ g, gi, r, ri })));
        const keep = new Set([...flat].sort((a, b) => rank(a.r) - rank(b.r)).slice(0, maxRules));
        const rows = (r: Rule) => ({
          name: r.name,
          type: r.type,
          health: r.health,
          ...(r.lastError ? { lastError: clip(r.lastError) } : {}),
          ...(r.type === 'alerting' ? { state: r.state, activeAlerts: r.alerts?.length ?? 0 } : {}),
        });
        const out = groups
          .map((g, gi) => ({ name: g.name, file: g.file, interval: g.interval, rules: flat.filter((x) => x.gi === gi && keep.has(x)).map((x) => rows(x.r)) }))
          .filter((g) => g.rules.length > 0);
        const errors = flat.filter((x) => rank(x.r) === 0);
        const firing = flat.filter((x) => x.r.state === 'firing').length;
        const pending = flat.filter((x) => x.r.state === 'pending').length;
        const head = `${n(groups.length, 'group')}, ${n(flat.length, 'rule')}: ${errors.length} failing, ${firing} firing, ${pending} pending`;
        const lines = flat
          .filter((x) => rank(x.r) < 3 && keep.has(x))
          .sort((a, b) => rank(a.r) - rank(b.r))
          .map((x) => `${rank(x.r) === 0 ? 'ERROR' : x.r.state!.toUpperCase()} ${x.r.name} (${x.g.name}, ${x.g.file})${x.r.lastError ? ` — ${clip(x.r.lastError)}` : ''}`);
        const quiet = keep.size - lines.length;
        const inactive = flat.filter((x) => keep.has(x) && rank(x.r) === 3 && x.r.type === 'alerting').length;
        if (quiet > 0) lines.push(`${n(quiet, 'other rule')} ${quiet === 1 ? 'evaluates' : 'evaluate'} fine${inactive ? ` (${inactive} alerting, inactive)` : ''}`);
        const note = more(keep.size, flat.length, 'rule', 'filter by group or type');
        return ok(
          { groups: out, total: flat.length, failing: errors.length, firing, pending, ...(note ? { note } : {}) },
          [head, ...lines, ...(note ? [note] : [])].join('\n'),
        );
      }),
  });
}
