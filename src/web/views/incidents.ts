/**
 * The incidents list: open first by severity, filters in the address (#/incidents?state=…, so a
 * filtered list can be bookmarked), and live: each `incident` event updates or adds its row.
 */
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { IncidentRow } from '../../http/api/types.ts';
import { get } from '../api.ts';
import { listen } from '../events.ts';
import { announce } from '../format.ts';
import { html } from '../html.ts';
import { Age, AttentionBadges, Pending, SeverityBadge, useLoad } from '../shared.ts';

const FILTERS = ['state', 'severity', 'host', 'source', 'subject'] as const;
const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** The server's order: firing first, then by severity, then the newest change. */
function order(a: IncidentRow, b: IncidentRow): number {
  return (
    Number(a.status !== 'firing') - Number(b.status !== 'firing') ||
    (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) ||
    Date.parse(b.updatedAt) - Date.parse(a.updatedAt)
  );
}

/**
 * Whether a row pushed live belongs in the list as filtered. The server filters the first load
 * with the alerts' hosts and subjects too, which a row carries only in part: a row already listed
 * stays on those, a new one is judged on what it carries (as the server does, by substring).
 */
function matches(r: IncidentRow, q: URLSearchParams, known: boolean): boolean {
  const state = q.get('state') || 'firing';
  if (state !== 'all' && r.status !== state) return false;
  const sev = q.get('severity');
  if (sev && r.severity !== sev) return false;
  const source = q.get('source');
  if (source && !r.sources.includes(source)) return false;
  if (known) return true;
  const host = q.get('host');
  if (host && r.host !== host) return false;
  const subject = q.get('subject');
  return !subject || r.subjects.some((s) => s.includes(subject));
}

function Filters({ query }: { query: URLSearchParams }): VNode {
  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const q = new URLSearchParams();
    for (const f of FILTERS) {
      const v = String(form.get(f) ?? '').trim();
      if (v && !(f === 'state' && v === 'firing')) q.set(f, v);
    }
    location.hash = `#/incidents${q.size ? `?${q}` : ''}`;
  };
  const text = (name: string, label: string) =>
    html`<div class="field"><label for=${`f-${name}`}>${label}</label><input id=${`f-${name}`} name=${name} type="text" value=${query.get(name) ?? ''} /></div>`;
  // On a phone the filters fold away unless one is in use: the list comes first.
  const active = [...query.keys()].some((k) => (FILTERS as readonly string[]).includes(k));
  return html`
    <details class="filter-box" open=${active || matchMedia('(min-width: 760px)').matches}>
    <summary>Filters${active ? ' (in use)' : ''}</summary>
    <form class="filters" onSubmit=${apply} aria-label="Filter incidents">
      <div class="field">
        <label for="f-state">State</label>
        <select id="f-state" name="state" value=${query.get('state') || 'firing'}>
          <option value="firing">open</option><option value="resolved">resolved</option><option value="all">all</option>
        </select>
      </div>
      <div class="field">
        <label for="f-severity">Severity</label>
        <select id="f-severity" name="severity" value=${query.get('severity') ?? ''}>
          <option value="">any</option><option value="critical">critical</option><option value="warning">warning</option><option value="info">info</option>
        </select>
      </div>
      ${text('host', 'Host')} ${text('source', 'Source')} ${text('subject', 'Subject')}
      <div class="field submit"><button type="submit">Filter</button>${active ? html` <a href="#/incidents">Clear</a>` : null}</div>
    </form>
    </details>
  `;
}

function Row({ r }: { r: IncidentRow }): VNode {
  return html`
    <li class=${`incident ${r.status}`} data-id=${r.id}>
      <div class="line1">
        <${SeverityBadge} severity=${r.severity} />
        ${r.status === 'resolved' ? html`<span class="badge resolved">resolved</span>` : null}
        <a class="title" href=${`#/incidents/${encodeURIComponent(r.id)}`}>${r.title}</a>
      </div>
      ${r.cause && r.cause !== r.title ? html`<p class="cause">${r.cause}</p>` : null}
      <div class="meta">
        <span>${r.host}</span>
        <span>${r.status === 'firing' ? 'started ' : 'resolved '}<${Age} at=${r.status === 'firing' ? r.since : (r.resolvedAt ?? r.updatedAt)} /></span>
        ${r.firing > 1 ? html`<span>${r.firing} alerts firing</span>` : null}
        <${AttentionBadges} attention=${r.attention} />
      </div>
    </li>
  `;
}

/** The API query for the filters in the address (state defaults to open). */
function apiQuery(query: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams({ state: query.get('state') || 'firing' });
  for (const f of FILTERS) if (query.get(f)) q.set(f, query.get(f)!);
  return q;
}

export const incidentsPath = (query: URLSearchParams) => `api/incidents?${apiQuery(query)}`;

export function Incidents({ query }: { query: URLSearchParams }): VNode {
  const q = apiQuery(query);
  const key = q.toString();
  const filtered = q.size > 1 || q.get('state') !== 'firing';
  const state = useLoad(() => get<{ incidents: IncidentRow[] }>(`api/incidents?${key}`), key);
  const [rows, setRows] = useState<IncidentRow[] | undefined>(undefined);
  const [live, setLive] = useState(false);
  useEffect(() => setRows(state.data?.incidents), [state.data]);
  let wasDown = false;
  useEffect(
    () =>
      listen({
        live(up) {
          // Back after a break (a phone asleep, a restart): what changed meanwhile was not pushed.
          if (up && wasDown) void state.reload();
          wasDown = !up;
          setLive(up);
        },
        row(r) {
          setRows((now) => {
            if (!now) return now;
            const known = now.some((x) => x.id === r.id);
            const fits = matches(r, new URLSearchParams(key), known);
            if (!known && !fits) return now;
            if (!known) announce(`New incident: ${r.title} on ${r.host}`);
            const rest = now.filter((x) => x.id !== r.id);
            return (fits ? [...rest, r] : rest).sort(order);
          });
        },
      }),
    [key],
  );
  // Ages move on while the page stays open.
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(t);
  }, []);

  return html`
    <div class="heading">
      <h1 tabindex="-1">Incidents</h1>
      <span class=${`live ${live ? 'on' : 'off'}`} role="status">${live ? 'live' : 'connecting…'}</span>
    </div>
    <${Filters} query=${query} />
    ${!rows
      ? html`<${Pending} state=${state} what="incidents" />`
      : rows.length === 0
        ? html`<p class="empty">${filtered ? 'No incident matches these filters.' : 'No open incident. All quiet.'}</p>`
        : html`<ul class="incidents" aria-label="Incidents">${rows.map((r) => html`<${Row} key=${r.id} r=${r} />`)}</ul>`}
  `;
}
