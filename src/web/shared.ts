/** Small parts every view uses: loading data, showing a failure, badges. */
import type { VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Attention } from '../incidents/actions.ts';
import { problem } from './api.ts';
import { age } from './format.ts';
import { html } from './html.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

/** Runs `load` now and whenever `key` changes; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(undefined);
    } catch (e) {
      setError(problem(e));
    } finally {
      setLoading(false);
    }
  }, [key]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

export function Problem({ text }: { text: string | undefined }): VNode | null {
  return text ? html`<p class="problem" role="alert">${text}</p>` : null;
}

/** What to show before data arrives: the failure, or "Loading…". */
export function Pending({ state, what }: { state: Loaded<unknown>; what: string }): VNode {
  return state.error ? html`<${Problem} text=${state.error} />` : html`<p class="muted" role="status">Loading ${what}…</p>`;
}

export function SeverityBadge({ severity }: { severity: string }): VNode {
  return html`<span class=${`badge sev-${severity}`}>${severity}</span>`;
}

export function AttentionBadges({ attention }: { attention: Attention | undefined }): VNode | null {
  if (!attention) return null;
  const ack = attention.acknowledged;
  const snooze = attention.snoozedUntil;
  return html`${ack ? html`<span class="badge ack" title=${`at ${ack.at}`}>acknowledged by ${ack.by}</span>` : null}${snooze
    ? html`<span class="badge snooze" title=${`by ${snooze.by}`}>snoozed until ${new Date(snooze.until).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' })}</span>`
    : null}`;
}

export function Age({ at }: { at: string | undefined }): VNode {
  return html`<time datetime=${at} title=${at}>${age(at)}</time>`;
}
