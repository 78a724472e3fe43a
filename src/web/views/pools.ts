/**
 * Pools (ZFS through zpool, Proxmox or TrueNAS): state, capacity with the fill date when one is
 * known, error counters, the last scrub, zpool's own words, and the vdev tree with its counters.
 */
import type { VNode } from 'preact';
import type { HistoryAnswer, SubjectRow } from '../../http/api/types.ts';
import { get } from '../api.ts';
import { Chart } from '../chart.ts';
import { bytes, value } from '../format.ts';
import { html } from '../html.ts';
import { Age, Pending, useLoad } from '../shared.ts';
import { AllReadings, Firing, Readings, useSubjects } from '../subjects.ts';

const COUNTERS = ['read_errors', 'write_errors', 'checksum_errors', 'vdev_errors', 'data_errors', 'permanent_error_files', 'last_scrub_errors'];

function tone(state: unknown): 'ok' | 'warn' | 'bad' {
  return state === 'ONLINE' ? 'ok' : state === 'DEGRADED' ? 'warn' : 'bad';
}

/** When the pool fills, if a reading says: a date, or days from the reading. */
function fillDate(v: Record<string, unknown>, at: string): string | undefined {
  for (const k of ['fill_date', 'full_at', 'fills_at']) if (typeof v[k] === 'string' && v[k]) return new Date(v[k] as string).toLocaleDateString();
  if (typeof v.days_to_full === 'number') return `${new Date(Date.parse(at) + v.days_to_full * 86_400_000).toLocaleDateString()} (in ${Math.round(v.days_to_full)} days)`;
  return undefined;
}

function Capacity({ v, at }: { v: Record<string, unknown>; at: string }): VNode | null {
  if (typeof v.capacity_pct !== 'number') return null;
  const fill = fillDate(v, at);
  return html`<div class="capacity">
    <label>Capacity: ${v.capacity_pct} % used${typeof v.size_bytes === 'number' ? ` of ${bytes(v.size_bytes)}` : ''}${typeof v.free_bytes === 'number' ? ` · ${bytes(v.free_bytes)} free` : ''}
      <meter min="0" max="100" low="80" high="90" optimum="0" value=${v.capacity_pct}></meter>
    </label>
    ${fill ? html`<p class="small">Full by ${fill}, at the present rate.</p>` : null}
  </div>`;
}

/** The vdev tree: class (data, log, cache, spare) → group (mirror-0, raidz1-0) → device, each with its state and counters. */
function Vdevs({ vdevs }: { vdevs: SubjectRow[] }): VNode | null {
  if (vdevs.length === 0) return null;
  const byClass = new Map<string, Map<string, SubjectRow[]>>();
  for (const d of vdevs) {
    const cls = value(d.values.class);
    const parent = String(d.values.parent ?? '');
    const groups = byClass.get(cls) ?? byClass.set(cls, new Map()).get(cls)!;
    (groups.get(parent) ?? groups.set(parent, []).get(parent)!).push(d);
  }
  const leaf = (d: SubjectRow) => {
    const v = d.values;
    const errs = `${v.read_errors ?? 0} / ${v.write_errors ?? 0} / ${v.checksum_errors ?? 0}`;
    return html`<li><code>${v.name}</code> <span class=${`health ${tone(v.state)}`}>${v.state}</span> <span class="muted small">read/write/checksum errors ${errs}</span>${v.note ? html` <span class="small">${v.note}</span>` : null}</li>`;
  };
  return html`<details class="vdevs" open=${vdevs.some((d) => d.values.state !== 'ONLINE')}>
    <summary>Devices (${vdevs.length})</summary>
    <ul class="tree">
      ${[...byClass].map(
        ([cls, groups]) => html`<li><span class="kind">${cls}</span><ul>
          ${[...groups].map(([parent, leaves]) => (parent ? html`<li><code>${parent}</code><ul>${leaves.map(leaf)}</ul></li>` : leaves.map(leaf)))}
        </ul></li>`,
      )}
    </ul>
  </details>`;
}

function CapacityChart({ subject, host }: { subject: string; host: string }): VNode | null {
  // two nodes' rpool are two pools: the history asked for is this host's
  const h = useLoad(() => get<HistoryAnswer>(`api/subjects/${encodeURIComponent(subject)}/history?host=${encodeURIComponent(host)}`), `${subject}@${host}`);
  return h.data && h.data.points.length > 1 ? html`<${Chart} title="Capacity %" history=${h.data} keys=${['capacity_pct']} />` : null;
}

function Pool({ s, vdevs }: { s: SubjectRow; vdevs: SubjectRow[] }): VNode {
  const v = s.values;
  const scrub =
    typeof v.scrub_age_days === 'number'
      ? `${Math.round(v.scrub_age_days)} days ago${typeof v.last_scrub_errors === 'number' ? `, ${v.last_scrub_errors} errors` : ''}`
      : v.never_scrubbed
        ? 'never'
        : value(v.scan_text);
  return html`
    <article class="card pool" aria-labelledby=${`p-${s.subject}@${s.host}`}>
      <h2 id=${`p-${s.subject}@${s.host}`}>${value(v.name ?? s.subject)} <span class=${`health ${tone(v.state)}`}>${value(v.state)}</span></h2>
      <p class="muted small">${s.host} · ${s.source} · read <${Age} at=${s.at} /></p>
      <${Firing} s=${s} />
      <${Capacity} v=${v} at=${s.at} />
      <${Readings} values=${{ 'last scrub': scrub, ...(v.scrub_running ? { scrub: 'running' } : {}), ...(v.resilvering ? { resilver: 'running' } : {}), redundancy: v.risk }} keys=${['last scrub', 'scrub', 'resilver', 'redundancy']} />
      <${Readings} values=${v} keys=${COUNTERS} />
      ${v.status ? html`<p class="zpool"><strong>zpool:</strong> ${value(v.status)}${v.action ? html`<br /><strong>action:</strong> ${value(v.action)}` : null}</p>` : null}
      <${Vdevs} vdevs=${vdevs} />
      <${CapacityChart} subject=${s.subject} host=${s.host} />
      <${AllReadings} values=${v} />
    </article>
  `;
}

export function Pools(): VNode {
  const state = useSubjects('pool');
  // A pool's devices are asked for by name (the full list leaves them out); a host '' is zpool's own path.
  const vdevs = useSubjects('vdev').data?.subjects ?? [];
  const pools = state.data?.subjects;
  const vdevsOf = (p: SubjectRow) => vdevs.filter((s) => s.values.pool === p.values.name && (s.host === '' || s.host === p.host));
  return html`
    <h1 tabindex="-1">Pools</h1>
    ${!pools
      ? html`<${Pending} state=${state} what="pools" />`
      : pools.length === 0
        ? html`<p class="empty">No pool read yet. Pools come from watch.zfs, Proxmox or TrueNAS once their collectors run.</p>`
        : html`<div class="cards">${pools.map((s) => html`<${Pool} key=${`${s.subject}@${s.host}`} s=${s} vdevs=${vdevsOf(s)} />`)}</div>`}
  `;
}
