/**
 * Drives, whichever path read them (smartctl, Proxmox's API, TrueNAS): the readings the collectors
 * emit (src/connectors/smart/collect.ts driveObservation) by their names, charts of temperature and
 * error counters over the kept history, and the rules firing on each.
 */
import type { VNode } from 'preact';
import type { HistoryAnswer, SubjectRow } from '../../http/api/types.ts';
import { get } from '../api.ts';
import { Chart } from '../chart.ts';
import { bytes, hours, value } from '../format.ts';
import { html } from '../html.ts';
import { Age, Pending, useLoad } from '../shared.ts';
import { AllReadings, Firing, Readings, useSubjects } from '../subjects.ts';

const DRIVE_KINDS = new Set(['drive', 'disk']);
const COUNTERS = [
  'reallocated_sectors',
  'pending_sectors',
  'offline_uncorrectable',
  'reported_uncorrectable',
  'reallocation_events',
  'udma_crc_errors',
  'media_errors',
  'critical_warning',
  'available_spare',
  'unsafe_shutdowns',
  'grown_defects',
  'uncorrected_errors',
  'error_log_count',
  'selftest_failed',
];
const ERROR_SERIES = ['reallocated_sectors', 'pending_sectors', 'offline_uncorrectable', 'media_errors', 'udma_crc_errors', 'grown_defects', 'uncorrected_errors'];

/** The drive's health in one word and a tone, from what smartctl said. */
function health(v: Record<string, unknown>): [string, 'ok' | 'warn' | 'bad'] {
  if (v.state === 'standby') return ['asleep', 'ok'];
  if (v.state === 'missing') return ['missing', 'bad'];
  if (v.state === 'error') return [`unreadable${v.error ? `: ${String(v.error)}` : ''}`, 'warn'];
  if (v.passed === false || v.disk_failing === true) return ['SMART failing', 'bad'];
  if (v.attributes_failing_now) return [`failing now: ${String(v.attributes_failing_now)}`, 'bad'];
  if (v.prefail_at_threshold === true) return ['pre-fail attribute at threshold', 'warn'];
  return v.passed === true ? ['passed', 'ok'] : ['unknown', 'warn'];
}

function Charts({ subject, host }: { subject: string; host: string }): VNode | null {
  // a drive known only by its device path (no serial) is one per host
  const h = useLoad(() => get<HistoryAnswer>(`api/subjects/${encodeURIComponent(subject)}/history?host=${encodeURIComponent(host)}`), `${subject}@${host}`);
  if (!h.data) return h.error ? html`<p class="muted small">No history: ${h.error}</p>` : null;
  if (h.data.points.length < 2) return html`<p class="muted small">Charts appear after a second reading.</p>`;
  return html`<div class="charts">
    <${Chart} title="Temperature °C" history=${h.data} keys=${['temperature_c']} />
    <${Chart} title="Error counters" history=${h.data} keys=${ERROR_SERIES} />
  </div>`;
}

function Drive({ s }: { s: SubjectRow }): VNode {
  const v = s.values;
  const [word, tone] = health(v);
  const wear = typeof v.percentage_used === 'number' ? v.percentage_used : v.wear_pct_used;
  const facts: Record<string, unknown> = {
    host: s.host,
    device: v.device,
    serial: v.serial,
    class: v.drive_class,
    capacity: typeof v.capacity_bytes === 'number' ? bytes(v.capacity_bytes) : undefined,
    temperature: typeof v.temperature_c === 'number' ? `${v.temperature_c} °C` : undefined,
    'power-on time': typeof v.power_on_hours === 'number' ? hours(v.power_on_hours) : undefined,
    wear: typeof wear === 'number' ? `${wear} % of rated endurance used` : undefined,
  };
  return html`
    <article class="card drive" aria-labelledby=${`d-${s.subject}@${s.host}`}>
      <h2 id=${`d-${s.subject}@${s.host}`}>${value(v.model) !== '—' ? value(v.model) : s.subject} <span class=${`health ${tone}`}>${word}</span></h2>
      <p class="muted small">${s.subject} · ${s.source} · read <${Age} at=${s.at} /></p>
      <${Firing} s=${s} />
      <${Readings} values=${facts} keys=${Object.keys(facts)} />
      <h3 class="sub">Counters</h3>
      ${COUNTERS.some((k) => v[k] !== undefined) ? html`<${Readings} values=${v} keys=${COUNTERS} />` : html`<p class="muted small">None read (asleep or unreadable).</p>`}
      <${Charts} subject=${s.subject} host=${s.host} />
      <${AllReadings} values=${v} />
    </article>
  `;
}

export function Drives(): VNode {
  const state = useSubjects();
  const drives = state.data?.subjects.filter((s) => DRIVE_KINDS.has(s.kind)).sort((a, b) => b.firing.length - a.firing.length || a.host.localeCompare(b.host) || a.subject.localeCompare(b.subject));
  return html`
    <h1 tabindex="-1">Drives</h1>
    ${!drives
      ? html`<${Pending} state=${state} what="drives" />`
      : drives.length === 0
        ? html`<p class="empty">No drive read yet. Drives come from watch.smart, Proxmox or TrueNAS once their collectors run.</p>`
        : html`<div class="cards">${drives.map((s) => html`<${Drive} key=${`${s.subject}@${s.host}`} s=${s} />`)}</div>`}
  `;
}
