/**
 * One EventSource on /api/events for the whole page, opened while some view listens: `incident`
 * events (an IncidentRow whenever an incident changes) go to every listener. EventSource reconnects
 * by itself; listeners hear whether the stream is live.
 */
import type { IncidentRow } from '../http/api/types.ts';

type Listener = { row(r: IncidentRow): void; live?(up: boolean): void };

const listeners = new Set<Listener>();
let source: EventSource | null = null;

function open(): void {
  source = new EventSource('api/events');
  source.addEventListener('incident', (e) => {
    let row: IncidentRow;
    try {
      row = JSON.parse((e as MessageEvent<string>).data) as IncidentRow;
    } catch {
      return;
    }
    for (const l of listeners) l.row(row);
  });
  source.addEventListener('open', () => listeners.forEach((l) => l.live?.(true)));
  source.addEventListener('error', () => listeners.forEach((l) => l.live?.(false)));
}

/** Listens until the returned function is called. */
export function listen(l: Listener): () => void {
  listeners.add(l);
  if (!source) open();
  else l.live?.(source.readyState === EventSource.OPEN);
  return () => {
    listeners.delete(l);
    if (listeners.size === 0) {
      source?.close();
      source = null;
    }
  };
}
