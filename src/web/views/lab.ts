/**
 * Everything else the connectors read (hosts, guests, nodes, interfaces, storage, gateways…), one
 * table per kind, as the connectors give it: the summary line, and every reading on demand.
 */
import type { VNode } from 'preact';
import type { SubjectRow } from '../../http/api/types.ts';
import { html } from '../html.ts';
import { label, value } from '../format.ts';
import { Age, Pending } from '../shared.ts';
import { AllReadings, Firing, useSubjects } from '../subjects.ts';

/** Shown in their own views (drives, pools with their vdevs) or in Status (collectors). */
const ELSEWHERE = new Set(['drive', 'disk', 'pool', 'vdev', 'collector']);

/** A reading without a summary line (a filesystem, an interface): its first few short values. */
function brief(values: Record<string, unknown>): string {
  // What says whether it is well first (state, how full, errors), then the rest in the collector's order.
  const telling = (k: string) => (/state|status|online|_pct$|errors/.test(k) ? 0 : 1);
  return Object.entries(values)
    .filter(([, v]) => typeof v === 'number' || (typeof v === 'string' && v !== '' && v.length <= 40))
    .sort(([a], [b]) => telling(a) - telling(b))
    .slice(0, 4)
    .map(([k, v]) => `${label(k)} ${value(v)}`)
    .join(' · ');
}

function Kind({ kind, rows }: { kind: string; rows: SubjectRow[] }): VNode {
  const id = `k-${kind}`;
  return html`<section aria-labelledby=${id}>
    <h2 id=${id}>${kind.replace(/_/g, ' ')} <span class="muted">(${rows.length})</span></h2>
    <div class="scroll" role="region" aria-labelledby=${id} tabindex="0">
      <table class="subjects">
        <thead><tr><th scope="col">Subject</th><th scope="col">Host</th><th scope="col">Reading</th><th scope="col">Read</th></tr></thead>
        <tbody>
          ${rows.map(
            (s) => html`<tr>
              <th scope="row"><code>${s.subject}</code><${Firing} s=${s} /></th>
              <td>${s.host}</td>
              <td>${s.summary || brief(s.values)}${s.arrow ? html` <span aria-label="trend">${s.arrow}</span>` : null}<${AllReadings} values=${s.values} /></td>
              <td><${Age} at=${s.at} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

export function Lab(): VNode {
  const state = useSubjects();
  const byKind = new Map<string, SubjectRow[]>();
  for (const s of state.data?.subjects ?? []) if (!ELSEWHERE.has(s.kind)) (byKind.get(s.kind) ?? byKind.set(s.kind, []).get(s.kind)!).push(s);
  const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b));
  return html`
    <h1 tabindex="-1">Lab</h1>
    ${!state.data
      ? html`<${Pending} state=${state} what="the lab" />`
      : kinds.length === 0
        ? html`<p class="empty">Nothing read yet besides drives and pools. Hosts, guests and interfaces appear as their connectors run.</p>`
        : kinds.map(([kind, rows]) => html`<${Kind} key=${kind} kind=${kind} rows=${rows.sort((a, b) => b.firing.length - a.firing.length || a.subject.localeCompare(b.subject))} />`)}
  `;
}
