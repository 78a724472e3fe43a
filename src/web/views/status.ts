/** labwatch itself: collectors, queues, channels, the AI and its spend, Redis, the audit trail. */
import type { VNode } from 'preact';
import type { StatusAnswer } from '../../http/api/types.ts';
import { get } from '../api.ts';
import { usd, when } from '../format.ts';
import { html } from '../html.ts';
import { Age, Pending, useLoad } from '../shared.ts';

const ok = (good: boolean, yes: string, no: string) => html`<span class=${`health ${good ? 'ok' : 'bad'}`}>${good ? yes : no}</span>`;

export function Status(): VNode {
  const state = useLoad(() => get<StatusAnswer>('api/status'), '');
  const s = state.data;
  if (!s) return html`<h1 tabindex="-1">Status</h1><${Pending} state=${state} what="the status" />`;
  const queueStates = [...new Set(Object.values(s.queues).flatMap((q) => Object.keys(q)))].sort();
  return html`
    <div class="heading"><h1 tabindex="-1">Status</h1><button type="button" class="secondary small" onClick=${state.reload}>Refresh</button></div>
    <dl class="facts">
      <div><dt>Version</dt><dd>${s.version}</dd></div>
      <div><dt>Host</dt><dd>${s.host}</dd></div>
      <div><dt>Running since</dt><dd>${when(s.startedAt)}</dd></div>
      <div><dt>Redis</dt><dd>${ok(s.redis.up, 'up', 'down')}</dd></div>
      <div><dt>Audit trail</dt><dd>${s.audit.problem ? html`<span class="health bad">${s.audit.problem}</span>` : ok(true, 'written', '')}</dd></div>
    </dl>

    <section aria-labelledby="h-ai"><h2 id="h-ai">AI</h2>
      <dl class="facts">
        <div><dt>Investigations</dt><dd>${s.ai.enabled ? ok(true, 'enabled', '') : html`<span class="health warn">off: reports are built without AI</span>`}</dd></div>
        ${s.ai.model ? html`<div><dt>Model</dt><dd>${s.ai.model}${s.ai.local ? ' (local)' : ''}</dd></div>` : null}
        <div><dt>Spent today</dt><dd>${usd(s.ai.spentTodayUsd)} on ${s.ai.investigationsToday} investigations</dd></div>
      </dl>
    </section>

    <section aria-labelledby="h-collectors"><h2 id="h-collectors">Collectors</h2>
      ${s.collectors.length === 0
        ? html`<p class="muted">No collector has run (all off, or just started).</p>`
        : html`<div class="scroll" role="region" aria-labelledby="h-collectors" tabindex="0"><table>
            <thead><tr><th scope="col">Collector</th><th scope="col">Last run</th><th scope="col">Result</th><th scope="col">Observations</th></tr></thead>
            <tbody>${s.collectors.map(
              (c) => html`<tr><th scope="row">${c.name}</th><td><${Age} at=${c.at} /></td><td>${c.ok ? ok(true, 'ok', '') : html`<span class="health bad">${c.error || 'failed'}</span>`}</td><td class="num">${c.observations}</td></tr>`,
            )}</tbody>
          </table></div>`}
    </section>

    <section aria-labelledby="h-queues"><h2 id="h-queues">Queues</h2>
      <div class="scroll" role="region" aria-labelledby="h-queues" tabindex="0"><table>
        <thead><tr><th scope="col">Queue</th>${queueStates.map((q) => html`<th scope="col" class="num">${q}</th>`)}</tr></thead>
        <tbody>${Object.entries(s.queues).map(
          ([name, counts]) => html`<tr><th scope="row">${name}</th>${queueStates.map((q) => html`<td class=${`num${q === 'failed' && (counts[q] ?? 0) > 0 ? ' bad' : ''}`}>${counts[q] ?? 0}</td>`)}</tr>`,
        )}</tbody>
      </table></div>
    </section>

    <section aria-labelledby="h-channels"><h2 id="h-channels">Channels</h2>
      ${s.channels.length === 0
        ? html`<p class="muted">No channel configured: reports go to the log.</p>`
        : html`<ul class="plain">${s.channels.map(
            (c) => html`<li><strong>${c.name}</strong> ${c.circuit === 'closed' ? ok(true, 'sending', '') : html`<span class="health bad">circuit open, next try in ${Math.ceil(c.waitMs / 1000)} s</span>`}</li>`,
          )}</ul>`}
    </section>
  `;
}
