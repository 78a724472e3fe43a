export type { HistoryPoint, Observation } from '../connectors/types.ts';
import type { Observation } from '../connectors/types.ts';

/** Where an observation's last values and history are kept. */
export function historyKey(obs: Path & Pick<Observation, 'rule'>): string {
  return obs.rule ? `${obs.subject}#${obs.rule}` : pathKey(obs);
}

type Path = Pick<Observation, 'subject' | 'source' | 'reading' | 'host' | 'local'>;

/**
 * Whether the subject names a thing only on its host: pve1's rpool and pve3's are two pools, as
 * are two nodes' `fs:/`. True for what a path reads of another source's kind (a pool through the
 * Proxmox API) and for what a collector reads of the machine it runs on, except drives named by
 * their serial, which names them anywhere. Such subjects' fingerprints, rule state and overview lines carry the host.
 */
export function perHost(obs: Path): boolean {
  // a drive named by its serial is one drive anywhere; one named by its device path (no serial read) is not
  const anywhere = obs.subject.startsWith('disk:') && !obs.subject.startsWith('disk:/dev/');
  return !anywhere && ((!!obs.reading && obs.reading !== obs.source) || !!obs.local);
}

/**
 * The subject as one path sees it: itself (a drive, or a thing of the lab such as a guest),
 * `<subject>@<source>` for a drive read another way, or `<subject>@<source>/<host>` for a thing
 * that is one per host, as the rule fingerprint does.
 */
export function pathKey(obs: Path): string {
  if (perHost(obs)) return `${obs.subject}@${obs.source}/${obs.host}`;
  if (!obs.reading || obs.reading === obs.source) return obs.subject;
  return `${obs.subject}@${obs.source}`;
}

/** What the overview lists once: a drive or a thing of the lab by its subject, a per-host thing with its host (whichever path read it). */
export function overviewKey(obs: Path): string {
  return perHost(obs) ? `${obs.subject}@${obs.host}` : obs.subject;
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
