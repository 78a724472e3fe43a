/**
 * What a person can do about one incident: acknowledge, snooze for a while, resolve by hand (after
 * a confirmation), silence in Alertmanager (when that write tool is enabled). Each is a POST with
 * the CSRF token; the caller reloads the incident to show its effect in the header and timeline.
 */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { IncidentDetail, SessionInfo } from '../../http/api/types.ts';
import { post, problem } from '../api.ts';
import { announce } from '../format.ts';
import { html } from '../html.ts';
import { Problem } from '../shared.ts';

const SNOOZE = [
  ['1h', '1 hour'],
  ['4h', '4 hours'],
  ['24h', '24 hours'],
  ['168h', '7 days'],
] as const;
const SILENCE = [
  ['2h', '2 hours'],
  ['24h', '24 hours'],
  ['168h', '7 days'],
] as const;

export function Actions({ detail, session, onChange }: { detail: IncidentDetail; session: SessionInfo; onChange: () => Promise<void> }): VNode {
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [snooze, setSnooze] = useState('4h');
  const [silence, setSilence] = useState('2h');
  const { incident, can } = detail;
  const base = `api/incidents/${encodeURIComponent(incident.id)}`;

  const act = async (what: string, path: string, body: unknown, done: string) => {
    setBusy(what);
    setError(undefined);
    try {
      await post(`${base}/${path}`, body);
      announce(done);
      setConfirming(false);
      await onChange();
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(undefined);
    }
  };

  if (!session.writable)
    return html`<p class="muted">${session.loginRequired || !session.authenticated ? 'Log in to act on this incident.' : 'This labwatch refuses actions from here (bound beyond loopback without a token).'}</p>`;
  if (incident.status === 'resolved') return html`<p class="muted">Resolved: nothing left to do.</p>`;
  const acked = incident.attention.acknowledged;
  const snoozed = incident.attention.snoozedUntil;
  const disabled = busy !== undefined;

  return html`
    <section class="actions" aria-label="Actions">
      ${can.acknowledge && !acked
        ? html`<button type="button" disabled=${disabled} onClick=${() => act('ack', 'acknowledge', {}, 'Acknowledged')}>Acknowledge</button>`
        : null}
      ${can.snooze
        ? snoozed
          ? html`<button type="button" disabled=${disabled} onClick=${() => act('unsnooze', 'unsnooze', {}, 'Snooze ended')}>End snooze</button>`
          : html`<span class="group">
              <label for="snooze-for" class="sr-only">Snooze for</label>
              <select id="snooze-for" value=${snooze} onChange=${(e: Event) => setSnooze((e.target as HTMLSelectElement).value)}>
                ${SNOOZE.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
              </select>
              <button type="button" disabled=${disabled} onClick=${() => act('snooze', 'snooze', { duration: snooze }, `Snoozed for ${snooze}`)}>Snooze</button>
            </span>`
        : null}
      ${can.silence
        ? html`<span class="group">
            <label for="silence-for" class="sr-only">Silence for</label>
            <select id="silence-for" value=${silence} onChange=${(e: Event) => setSilence((e.target as HTMLSelectElement).value)}>
              ${SILENCE.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
            </select>
            <button type="button" disabled=${disabled} onClick=${() => act('silence', 'silence', { duration: silence }, `Silenced in Alertmanager for ${silence}`)}>Silence in Alertmanager</button>
          </span>`
        : null}
      ${can.resolve
        ? confirming
          ? html`<span class="group confirm" role="group" aria-label="Confirm resolving by hand">
              <span>Resolve by hand? Its source will not be asked.</span>
              <button type="button" class="danger" disabled=${disabled} onClick=${() => act('resolve', 'resolve', {}, 'Resolved by hand')}>Yes, resolve</button>
              <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>
            </span>`
          : html`<button type="button" class="secondary" disabled=${disabled} onClick=${() => setConfirming(true)}>Resolve by hand…</button>`
        : null}
      ${busy ? html`<span class="muted" role="status">Working…</span>` : null}
      <${Problem} text=${error} />
    </section>
  `;
}
