/**
 * TrueNAS's own alerts (`alert.list`) as observations, kind `alert`, subject
 * `truenas-alert:<klass>[/<what it is about>]`: the NAS already judges many things labwatch cannot
 * read through the API (SMART attributes after 25.10, enclosure, UPS, certificates, updates).
 * rules/truenas.yaml maps the level to a severity. An alert about a pool joins that pool's group,
 * one about a disk the group of the pool the disk is in, so "a DEGRADED pool" is one incident
 * with its failing disk's alert. Dismissed alerts are skipped; an alert no longer listed (or
 * dismissed) is sent once as `gone`, which resolves it.
 */
import type { Observation } from '../types.ts';
import { diskByName, diskSubject } from './disks.ts';
import type { TnAlert, TnDisk } from './read.ts';

const LEVELS = ['INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];
const rank = (level: string) => LEVELS.indexOf(level.toUpperCase());
const MAX_TEXT = 1_000;

/** What an alert is about, from its args: a pool (pool, volume), a disk (device, disk), or another name. */
function aboutOf(args: unknown): { pool?: string; device?: string; key?: string } {
  if (typeof args === 'string' && args.trim() !== '') return { key: args.trim() };
  if (!args || typeof args !== 'object' || Array.isArray(args)) return {};
  const a = args as Record<string, unknown>;
  const str = (k: string) => (typeof a[k] === 'string' && (a[k] as string).trim() !== '' ? (a[k] as string).trim() : undefined);
  const pool = str('pool') ?? str('volume');
  if (pool) return { pool, key: pool };
  const device = str('device') ?? str('disk');
  if (device) return { device, key: device.replace(/^\/dev\//, '') };
  const other = str('name') ?? str('id') ?? str('dataset') ?? str('interface') ?? str('app');
  return other ? { key: other } : {};
}

/** `seen`: the subjects listed at the last poll (kept by the collector), to say which are gone. */
export function alertObservations(alerts: TnAlert[], disks: TnDisk[], poolOf: Map<string, string>, seen: Set<string>, host: string, at: string): Observation[] {
  const bySubject = new Map<string, { a: TnAlert; texts: string[]; obs: Omit<Observation, 'values'> }>();
  for (const a of alerts) {
    if (a.dismissed) continue;
    const about = aboutOf(a.args);
    const subject = `truenas-alert:${a.klass}${about.key ? `/${about.key}` : ''}`;
    const text = (a.formatted ?? a.text).trim();
    const prev = bySubject.get(subject);
    if (prev) {
      // several alerts of one class about one thing: the worst level speaks, every text is kept
      prev.texts.push(text);
      if (rank(a.level) > rank(prev.a.level)) prev.a = a;
      continue;
    }
    const disk = about.device ? diskByName(disks, about.device) : undefined;
    const pool = about.pool ?? (disk ? poolOf.get(disk.identifier || disk.name) : undefined);
    const group = pool ? `pool:${pool}` : disk ? diskSubject(disk, host) : undefined;
    bySubject.set(subject, {
      a,
      texts: [text],
      obs: { source: 'truenas', kind: 'alert', subject, host, at, ...(group ? { group } : {}), ...(disk && pool ? { aliases: [diskSubject(disk, host)] } : {}) },
    });
  }
  const out: Observation[] = [];
  for (const [subject, { a, texts, obs }] of bySubject) {
    const text = [...new Set(texts)].join(' · ').slice(0, MAX_TEXT);
    out.push({
      ...obs,
      values: { klass: a.klass, level: a.level.toUpperCase(), text, node: a.node, dismissed: false, count: texts.length, since: a.datetime ?? '', last_seen: a.last_occurrence ?? '' },
      summary: `${a.level} ${a.klass}: ${text.slice(0, 200)}`,
    });
    seen.add(subject);
  }
  for (const subject of [...seen])
    if (!bySubject.has(subject)) {
      out.push({ source: 'truenas', kind: 'alert', subject, host, at, gone: true, values: { klass: subject.slice('truenas-alert:'.length).split('/')[0], dismissed: false } });
      seen.delete(subject);
    }
  return out;
}
