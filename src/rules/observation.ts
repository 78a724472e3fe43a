export type { HistoryPoint, Observation } from '../connectors/types.ts';
import type { Observation } from '../connectors/types.ts';

/** Where an observation's last values and history are kept. */
export function historyKey(obs: Pick<Observation, 'subject' | 'rule' | 'source' | 'reading' | 'host'>): string {
  return obs.rule ? `${obs.subject}#${obs.rule}` : pathKey(obs);
}

/**
 * The subject as one path sees it: itself, or for a reading of another source's kind
 * `<subject>@<source>` (a drive, whose serial names it anywhere) or `<subject>@<source>/<host>`
 * (everything else: pve1's rpool and pve3's are two things), as the rule fingerprint does.
 */
export function pathKey(obs: Pick<Observation, 'subject' | 'source' | 'reading' | 'host'>): string {
  if (!obs.reading || obs.reading === obs.source) return obs.subject;
  return obs.subject.startsWith('disk:') ? `${obs.subject}@${obs.source}` : `${obs.subject}@${obs.source}/${obs.host}`;
}

/** The latest reading of a subject, as the digest lists it. */
export interface Latest {
  subject: string;
  source: string;
  kind: string;
  host: string;
  at: string;
  summary: string;
  /** where its values and history are kept (historyKey), when that is not the subject itself */
  key?: string;
  /** ↑ rising, ↓ falling, → steady, against about a day earlier; absent without history */
  arrow?: '↑' | '↓' | '→';
}

/** The top-level numeric values of an observation (what history keeps); a value named `__proto__` is kept as one. */
export function numericValues(values: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}
