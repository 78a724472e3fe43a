/**
 * Alertmanager tools: what is firing, silenced or inhibited right now, the silences, the server's
 * status; and, only when the config lists it in `write_tools`, creating a silence.
 */
import * as z from 'zod';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolResult, type ToolSpec } from '../../tools/types.ts';
import { AlertmanagerError, type Alert, type AlertmanagerApi, type Matcher, type Silence } from './api.ts';

/** The one write tool: it is offered only when `alertmanager.write_tools` names it. */
export const CREATE_SILENCE_TOOL = 'alertmanager_create_silence';

export interface AlertmanagerToolOptions {
  /** tool names the config enables for writing (`alertmanager.write_tools`) */
  writeTools: string[];
  /** the clock, for tests */
  now?: () => Date;
}

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a label name such as alertname or instance');
const labelMatcher = z
  .string()
  .regex(/^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*$/, 'a label matcher such as instance="nas:9100" or severity=~"crit.*"');
const matcherList = z.array(labelMatcher).max(10);
const limit = z.number().int().min(1).max(200).default(50);

type AlertState = 'active' | 'silenced' | 'inhibited' | 'suppressed';
const STATE_ORDER: AlertState[] = ['active', 'suppressed', 'inhibited', 'silenced'];
/** A Map: a severity label `constructor` is an unknown word (rank 3), not Object's member. */
const SEVERITY_RANK = new Map(Object.entries({ critical: 0, page: 0, high: 1, error: 1, warning: 2, medium: 2, low: 3, info: 4 }));

/** Silenced wins over inhibited: a silence is what a person decided. */
function stateOf(a: Alert): AlertState {
  if (a.status.silencedBy.length) return 'silenced';
  if (a.status.inhibitedBy.length) return 'inhibited';
  // Muted by a time interval (newer versions say so in mutedBy), or a future reason.
  if (a.status.state === 'suppressed' || a.status.mutedBy?.length) return 'suppressed';
  return 'active'; // "active", and "unprocessed": received, not yet routed
}

/** A matcher in Alertmanager's syntax: name="value", name!~"regex". */
function matcherText(m: Matcher): string {
  const op = (m.isEqual ? '=' : '!=') + (m.isRegex ? '~' : '');
  return `${m.name}${op === '!=~' ? '!~' : op}${JSON.stringify(m.value)}`;
}

const PROBES = ['a', 'Z9', 'nas:9100', 'critical', 'labwatch probe value', '0', 'x'.repeat(64)];

/** True when the matcher leaves (nearly) every alert in: a .*-like regex, a negation, an empty value. */
function matchesAnything(m: Matcher): boolean {
  if (!m.isEqual) return true;
  if (m.value === '') return true; // name="" matches every alert without that label
  if (!m.isRegex) return false;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${m.value})$`); // Alertmanager anchors regexes the same way
  } catch {
    return false; // not JavaScript syntax: Alertmanager judges it
  }
  return PROBES.every((p) => re.test(p));
}

/** A tool run, with Alertmanager's failures as error results (they already say what to check). */
async function guarded(f: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof AlertmanagerError) return failed(e.message);
    throw e;
  }
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function alertmanagerTools(api: AlertmanagerApi, opts: AlertmanagerToolOptions): ToolSpec[] {
  const now = opts.now ?? (() => new Date());

  const alertsInput = {
    state: z.enum(['active', 'silenced', 'inhibited', 'all']).default('all').describe('which alerts: active (firing and notified), silenced, inhibited, or all'),
    matchers: matcherList.optional().describe('label matchers, all of which must match: ["instance=\\"nas:9100\\"", "severity=~\\"crit.*\\""]'),
    limit: limit.describe('at most this many alerts (1-200); counts cover all of them'),
  };
  const alerts = defineTool({
    name: 'alertmanager_alerts',
    title: 'Alerts in Alertmanager now',
    description:
      'Every alert Alertmanager holds right now, including the silenced and inhibited ones that never reach a notification: alertname, ' +
      'severity, instance, state (active, silenced, inhibited, suppressed), the silence or inhibiting alert ids, since when, and its summary. ' +
      'Counts per state cover every matching alert even when `state` or `limit` narrows the list. Resolved alerts are gone from ' +
      'Alertmanager, so an empty result means nothing is firing (or matching the matchers).',
    input: alertsInput,
    annotations: READ_ONLY,
    defaultFor: (a) => (a.source === 'alertmanager' && a.labels.alertname ? { state: 'all', matchers: [`alertname="${escapeValue(a.labels.alertname)}"`] } : undefined),
    run: ({ state, matchers, limit }, signal) =>
      guarded(async () => {
        const all = await api.alerts({ filter: matchers ?? [] }, signal);
        const rows = all.map((a) => ({
          alertname: a.labels.alertname ?? '',
          severity: a.labels.severity ?? '',
          instance: a.labels.instance ?? '',
          state: stateOf(a),
          silencedBy: a.status.silencedBy,
          inhibitedBy: a.status.inhibitedBy,
          startsAt: a.startsAt,
          summary: a.annotations.summary ?? a.annotations.description ?? '',
          fingerprint: a.fingerprint,
        }));
        const counts: Record<string, number> = { active: 0, silenced: 0, inhibited: 0 };
        for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
        const countText = Object.entries(counts).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(', ');
        const wanted = rows.filter((r) => state === 'all' || r.state === state);
        if (wanted.length === 0) {
          const what = `${state === 'all' ? '' : `${state} `}alerts${matchers?.length ? ` matching ${matchers.join(', ')}` : ''}`;
          return noData(`Alertmanager has no ${what}${rows.length ? ` (there are ${countText})` : ''}`);
        }
        wanted.sort(
          (x, y) =>
            STATE_ORDER.indexOf(x.state) - STATE_ORDER.indexOf(y.state) ||
            (SEVERITY_RANK.get(x.severity.toLowerCase()) ?? 3) - (SEVERITY_RANK.get(y.severity.toLowerCase()) ?? 3) ||
            Date.parse(y.startsAt) - Date.parse(x.startsAt),
        );
        const shown = wanted.slice(0, limit);
        const lines = [`${rows.length} alert${rows.length === 1 ? '' : 's'}: ${countText}${shown.length < wanted.length ? `; showing ${shown.length} of ${wanted.length}` : ''}`];
        for (const s of STATE_ORDER) {
          const group = shown.filter((r) => r.state === s);
          if (!group.length) continue;
          lines.push(`${s} (${group.length}):`);
          for (const r of group) {
            const by = r.silencedBy.length ? ` [silenced by ${r.silencedBy.join(', ')}]` : r.inhibitedBy.length ? ` [inhibited by ${r.inhibitedBy.join(', ')}]` : '';
            lines.push(`- ${r.alertname || '(no alertname)'} ${r.severity || '-'} ${r.instance || '-'} since ${r.startsAt}${by}${r.summary ? `: ${r.summary}` : ''}`);
          }
        }
        return ok({ counts, total: rows.length, shown: shown.length, alerts: shown }, lines.join('\n'));
      }),
  });

  const silencesInput = {
    include_expired: z.boolean().default(false).describe('also list expired silences (Alertmanager keeps them for a while)'),
    matchers: matcherList.optional().describe('only silences whose matchers cover these labels: ["alertname=\\"DiskFull\\""]'),
    limit: limit.describe('at most this many silences (1-200)'),
  };
  const silences = defineTool({
    name: 'alertmanager_silences',
    title: 'Silences in Alertmanager',
    description:
      'The active and pending (scheduled) silences: id, state, matchers, who created it, the comment saying why, and when it starts ' +
      'and ends. Expired ones only with include_expired. Use it to learn why an alert is silenced (alertmanager_alerts gives the ' +
      'silence id) or whether a planned maintenance is covered. An empty result means nothing is silenced.',
    input: silencesInput,
    annotations: READ_ONLY,
    run: ({ include_expired, matchers, limit }, signal) =>
      guarded(async () => {
        const order = ['active', 'pending', 'expired'];
        const list = (await api.silences(matchers ?? [], signal))
          .filter((s) => include_expired || s.status.state !== 'expired')
          .sort((a, b) => order.indexOf(a.status.state) - order.indexOf(b.status.state) || Date.parse(a.endsAt) - Date.parse(b.endsAt));
        if (list.length === 0) return noData(`Alertmanager has no ${include_expired ? '' : 'active or pending '}silences${matchers?.length ? ` matching ${matchers.join(', ')}` : ''}`);
        const shown = list.slice(0, limit).map((s: Silence) => ({
          id: s.id,
          state: s.status.state,
          matchers: s.matchers.map(matcherText),
          createdBy: s.createdBy,
          comment: s.comment,
          startsAt: s.startsAt,
          endsAt: s.endsAt,
        }));
        const text = shown.map((s) => `${s.id} ${s.state} until ${s.endsAt}: ${s.matchers.join(', ')} — by ${s.createdBy}: ${s.comment}`);
        if (shown.length < list.length) text.unshift(`showing ${shown.length} of ${list.length} silences`);
        return ok({ total: list.length, silences: shown }, text.join('\n'));
      }),
  });

  const status = defineTool({
    name: 'alertmanager_status',
    title: "Alertmanager's status",
    description:
      "Alertmanager's version, how long it has been up (a recent restart loses nothing but can explain repeated notifications), and " +
      'its cluster status (ready, settling, or disabled for a single instance) with its peers. Call it when other Alertmanager tools fail ' +
      'oddly or to check which version answers.',
    input: {},
    annotations: READ_ONLY,
    run: (_i, signal) =>
      guarded(async () => {
        const s = await api.status(signal);
        const started = Date.parse(s.uptime);
        const upSeconds = Number.isNaN(started) ? undefined : Math.max(0, Math.round((now().getTime() - started) / 1000));
        const peers = s.cluster.peers.map((p) => `${p.name} ${p.address}`);
        const data = {
          version: s.versionInfo.version,
          revision: s.versionInfo.revision ?? '',
          startedAt: s.uptime,
          ...(upSeconds === undefined ? {} : { uptimeSeconds: upSeconds }),
          cluster: { status: s.cluster.status, ...(s.cluster.name ? { name: s.cluster.name } : {}), peers },
        };
        const up = upSeconds === undefined ? `started ${s.uptime}` : `up ${humanSeconds(upSeconds)} (since ${s.uptime})`;
        return ok(data, `Alertmanager ${data.version}${data.revision ? ` (${data.revision})` : ''}, ${up}; cluster ${s.cluster.status}${peers.length ? ` with ${peers.length} peer(s): ${peers.join(', ')}` : ''}`);
      }),
  });

  const tools: ToolSpec[] = [alerts, silences, status];
  if (opts.writeTools.includes(CREATE_SILENCE_TOOL)) tools.push(createSilenceTool(api, now));
  return tools;
}

const MIN_SILENCE_MS = 30 * 60e3;
const MAX_SILENCE_MS = 7 * 86400e3;
function silenceMs(d: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(d);
  return m ? Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'm' | 'h' | 'd'] : NaN;
}

function createSilenceTool(api: AlertmanagerApi, now: () => Date) {
  const input = {
    matchers: z
      .array(
        z.strictObject({
          name: labelName,
          value: z.string().max(1000).describe('the value, or a regular expression when isRegex'),
          isRegex: z.boolean().default(false),
          isEqual: z.boolean().default(true).describe('false negates: != or !~'),
        }),
      )
      .min(1)
      .max(10)
      .describe('the alerts to silence: every matcher must match; use exact ones such as alertname and instance'),
    duration: z
      .string()
      .refine((d) => silenceMs(d) >= MIN_SILENCE_MS && silenceMs(d) <= MAX_SILENCE_MS, 'a duration from "30m" to "7d", such as "2h" or "1d"')
      .describe('how long, from now: "30m" to "7d"'),
    comment: z.string().trim().min(3).max(500).describe('why, for the people who will see this silence (required)'),
  };
  return defineTool({
    name: CREATE_SILENCE_TOOL,
    title: 'Create a silence in Alertmanager',
    description:
      'Silences the matching alerts in Alertmanager from now for `duration`: no notifications go out for them until it ends. This ' +
      'changes what the people running this lab are told; do it only when asked or when the matching alerts are known noise (planned ' +
      'maintenance, a fix under way), and say why in `comment`. Match narrowly (alertname plus instance); a silence matching every ' +
      'alert is refused. Returns the silence id and end time; call alertmanager_alerts afterwards to see which alerts it silenced.',
    input,
    annotations: { readOnly: false, destructive: false, idempotent: false, openWorld: false },
    run: ({ matchers, duration, comment }, signal) =>
      guarded(async () => {
        if (matchers.every(matchesAnything))
          return failed(
            `refused: ${matchers.map(matcherText).join(', ')} would match (nearly) every alert (.*-like regexes, negations and empty values ` +
              'do not narrow a silence); add an exact matcher such as alertname="…" or instance="…"',
          );
        const start = now();
        const endsAt = new Date(start.getTime() + silenceMs(duration)).toISOString();
        const id = await api.createSilence({ matchers, startsAt: start.toISOString(), endsAt, createdBy: 'labwatch', comment }, signal);
        const shown = matchers.map(matcherText);
        return ok({ silenceId: id, endsAt, matchers: shown }, `created silence ${id} until ${endsAt} for ${shown.join(', ')}`);
      }),
  });
}

function humanSeconds(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m` : `${s}s`;
}
