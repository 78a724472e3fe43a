/**
 * Live updates for open dashboards: one poll of the incidents' recent list (a sorted set scored
 * by change time) per second while anyone listens, whichever process made the change, and each
 * changed incident's row pushed to every listener as a server-sent event. Polling Redis, rather
 * than an in-process signal, is what makes a change made by another labwatch process show up.
 */
import type { IncidentRow } from './types.ts';

export interface FeedSource {
  /** incidents changed at or after `sinceMs`, with their change time (ms) */
  changedSince(sinceMs: number): Promise<{ id: string; at: number }[]>;
  row(id: string): Promise<IncidentRow | null>;
}

type Listener = (row: IncidentRow) => void;

const OVERLAP_MS = 5_000;

export class IncidentFeed {
  readonly #listeners = new Set<Listener>();
  #timer: NodeJS.Timeout | undefined;
  #since = Date.now();
  #polling = false;
  /** what was sent near the edge of the window: two changes in one millisecond, or one seen twice, are told once each */
  readonly #sent = new Map<string, number>();

  constructor(
    private readonly source: FeedSource,
    private readonly onError: (e: Error) => void,
    private readonly everyMs = 1000,
  ) {}

  /** Starts listening; returns the way to stop. */
  listen(l: Listener): () => void {
    this.#listeners.add(l);
    if (!this.#timer) {
      this.#since = Date.now();
      this.#timer = setInterval(() => void this.#poll(), this.everyMs);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(l);
      if (this.#listeners.size === 0) this.close();
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      // Five seconds of overlap: a change committed by a process whose clock is a little behind is
      // still seen; what was already told is filtered out here, after the read, so a storm of
      // changes in one millisecond cannot fill the answer with rows already sent and stall the feed.
      const changed = (await this.source.changedSince(this.#since - OVERLAP_MS)).filter((c) => (this.#sent.get(c.id) ?? -1) < c.at);
      for (const c of changed) {
        this.#sent.set(c.id, c.at);
        this.#since = Math.max(this.#since, c.at);
        const row = await this.source.row(c.id);
        if (row) for (const l of this.#listeners) l(row);
      }
      for (const [id, at] of this.#sent) if (at < this.#since - 2 * OVERLAP_MS) this.#sent.delete(id);
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.#polling = false;
    }
  }
}
