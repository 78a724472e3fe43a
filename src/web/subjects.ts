/** Subjects (the latest reading of every drive, pool, host…) and the parts their views share. */
import type { VNode } from 'preact';
import type { SubjectRow } from '../http/api/types.ts';
import { get } from './api.ts';
import { label, value } from './format.ts';
import { html } from './html.ts';
import { SeverityBadge, useLoad, type Loaded } from './shared.ts';

export function useSubjects(kind?: string): Loaded<{ subjects: SubjectRow[] }> {
  return useLoad(() => get<{ subjects: SubjectRow[] }>(`api/subjects${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`), kind ?? '');
}

/** The rules firing on a subject, each linking to its incident. */
export function Firing({ s }: { s: SubjectRow }): VNode | null {
  if (s.firing.length === 0) return null;
  return html`<ul class="firing" aria-label="Rules firing">
    ${s.firing.map((f) => html`<li><${SeverityBadge} severity=${f.severity} /> <a href=${`#/incidents/${encodeURIComponent(f.incident)}`}>${f.rule}</a></li>`)}
  </ul>`;
}

/** Readings as a definition list, in the given order, skipping those absent. */
export function Readings({ values, keys, names = {} }: { values: Record<string, unknown>; keys: string[]; names?: Record<string, string> }): VNode | null {
  const shown = keys.filter((k) => values[k] !== undefined && values[k] !== '');
  if (shown.length === 0) return null;
  return html`<dl class="facts">${shown.map((k) => html`<div><dt>${names[k] ?? label(k)}</dt><dd>${value(values[k])}</dd></div>`)}</dl>`;
}

/** Every reading, for the curious: folded away by default. */
export function AllReadings({ values }: { values: Record<string, unknown> }): VNode {
  const keys = Object.keys(values).sort();
  return html`<details class="all"><summary>All ${keys.length} readings</summary><${Readings} values=${values} keys=${keys} /></details>`;
}
