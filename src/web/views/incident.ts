/**
 * One incident: what it is, what people did, the timeline, the report exactly as sent (its email
 * HTML in a sandboxed frame: no script runs, alert text is hostile input), the tool calls, the cost.
 * It reloads when a live event says the incident changed.
 */
import type { VNode } from 'preact';
import { useEffect } from 'preact/hooks';
import type { IncidentDetail, SessionInfo, TimelineEvent } from '../../http/api/types.ts';
import { get } from '../api.ts';
import { listen } from '../events.ts';
import { usd, when } from '../format.ts';
import { html } from '../html.ts';
import { Age, AttentionBadges, Pending, SeverityBadge, useLoad } from '../shared.ts';
import { Calls } from './calls.ts';
import { Actions } from './incident-actions.ts';

function Timeline({ events }: { events: TimelineEvent[] }): VNode {
  if (events.length === 0) return html`<p class="muted">Nothing recorded yet.</p>`;
  return html`<ol class="timeline">
    ${events.map(
      (e) => html`<li class=${`tl ${e.kind}`}>
        <time datetime=${e.at}>${when(e.at)}</time>
        <span class="kind">${e.kind.replace(/-/g, ' ')}</span>
        <span class="text">${e.text}</span>
        ${e.detail ? html`<span class="muted detail">${e.detail}</span>` : null}
      </li>`,
    )}
  </ol>`;
}

function Cost({ d }: { d: IncidentDetail }): VNode {
  const c = d.cost;
  return html`
    ${c
      ? html`<dl class="facts">
          <div><dt>Investigations</dt><dd>${c.investigations}</dd></div>
          <div><dt>Cost</dt><dd>${c.local ? 'local model (no charge)' : usd(c.usd)}</dd></div>
          <div><dt>Tokens in / out</dt><dd>${c.input.toLocaleString()} / ${c.output.toLocaleString()}</dd></div>
          <div><dt>Cache read / written</dt><dd>${c.cacheRead.toLocaleString()} / ${c.cacheWrite.toLocaleString()}</dd></div>
        </dl>`
      : html`<p class="muted">No AI investigation was run.</p>`}
    ${d.fallback ? html`<p class="fallback"><strong>Why this report is not the AI's:</strong> ${d.fallback}</p>` : null}
  `;
}

export function Incident({ id, session }: { id: string; session: SessionInfo }): VNode {
  const state = useLoad(() => get<IncidentDetail>(`api/incidents/${encodeURIComponent(id)}`), id);
  useEffect(() => listen({ row: (r) => void (r.id === id && state.reload()) }), [id, state.reload]);
  const d = state.data;
  if (!d) return html`<p><a href="#/incidents">← Incidents</a></p><${Pending} state=${state} what="the incident" />`;
  const i = d.incident;
  return html`
    <p class="back"><a href="#/incidents">← Incidents</a></p>
    <header class="incident-head">
      <div class="line1"><${SeverityBadge} severity=${i.severity} /><span class=${`badge ${i.status}`}>${i.status === 'firing' ? 'open' : 'resolved'}</span></div>
      <h1 tabindex="-1">${i.title}</h1>
      <p class="meta">
        <span>${i.host}</span>
        <span>opened <${Age} at=${i.openedAt} /></span>
        ${i.resolvedAt ? html`<span>resolved <${Age} at=${i.resolvedAt} /></span>` : null}
        <span>${i.firing} of ${i.anomalies} alerts firing</span>
        <span>revision ${i.revision}</span>
        <${AttentionBadges} attention=${i.attention} />
      </p>
      <p class="cause">${i.cause}</p>
      <p class="muted small">Sources: ${i.sources.join(', ') || '—'} · Subjects: ${i.subjects.join(', ') || '—'}</p>
    </header>
    <${Actions} detail=${d} session=${session} onChange=${state.reload} />
    <section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2><${Timeline} events=${d.timeline} /></section>
    <section aria-labelledby="h-report">
      <h2 id="h-report">Report, as sent</h2>
      ${d.reportHtml
        ? // The email's HTML styles itself inline, which this page's CSP (style-src 'self') would also
          // forbid in a srcdoc frame (it inherits the policy): the same report from GET /incidents/:id,
          // whose own policy allows its inline styles, in a sandbox (no script, an origin of its own).
          html`<iframe class="report" sandbox="" title=${`Report: ${i.title}`} src=${`incidents/${encodeURIComponent(i.id)}`}></iframe>`
        : html`<p class="muted">Not reported yet: the investigation is queued or running.</p>`}
    </section>
    <section aria-labelledby="h-calls"><h2 id="h-calls">Investigation</h2><${Calls} incident=${i.id} calls=${d.calls} /></section>
    <section aria-labelledby="h-cost"><h2 id="h-cost">Tokens and cost</h2><${Cost} d=${d} /></section>
  `;
}
