/**
 * Every Redis key family labwatch keeps: which stage owns it (its store is the only code that
 * writes it), how long it is kept, and what it holds. A key is `<redis.prefix>:<family>:<part>…`;
 * the stores build their keys from this table (keysOf), so the table is what is in Redis.
 * Renaming a family orphans the data already under it: add a new family and migrate instead.
 *
 * Retention "incidents.retention" is the configured one (default 30 days); "none" means the key
 * is kept until its owner deletes or trims it.
 */

/** The stages, in the order data flows through them; `tools` is the audit trail, `queue` BullMQ. */
export type Owner = 'watch' | 'rules' | 'incidents' | 'queue' | 'triage' | 'notify' | 'tools' | 'http';

interface Family {
  /** the parts after the family name, in order */
  readonly parts: readonly string[];
  readonly owner: Owner;
  readonly retention: string;
  readonly what: string;
}

export const KEY_FAMILIES = {
  // watch (watch/index.ts, daemon.ts)
  'watch:run': { parts: ['run'], owner: 'watch', retention: "the run's timeout, at least 10 minutes", what: 'which labwatch process took one scheduled run (value: its host); run is <task>:<slot time>, task watch:<host>:<collector> for what reads a machine, watch:lab:<collector>:<system hash> for a lab API' },

  // rules (rules/engine.ts)
  'obs:last': { parts: ['subject'], owner: 'rules', retention: '90 days', what: "a subject's last observed values (JSON)" },
  'obs:hist': { parts: ['subject'], owner: 'rules', retention: '90 days; at most 500 points', what: "list of a subject's numbers {at, values}, newest first" },
  'obs:latest': { parts: [], owner: 'rules', retention: 'none; entries older than 7 days are dropped on read', what: "hash subject (subject@host for a per-host thing: a pool, filesystem or interface) → Latest: the digest's health overview" },
  'obs:seen': { parts: [], owner: 'rules', retention: 'none; entries older than 7 days are dropped on read', what: 'hash history key → {subject, kind, source, host, at}: every subject observed, with or without a summary (the dashboard\'s lists)' },
  rule: { parts: ['rule', 'subject'], owner: 'rules', retention: '90 days; deleted when the rule is quiet', what: "a rule's pending state for a subject (count, firing; for `for:`)" },
  groupof: { parts: ['subject'], owner: 'rules', retention: '90 days', what: 'the group another connector put this subject in (a disk in its pool), via its aliases' },
  netpath: { parts: ['path'], owner: 'rules', retention: '7 days; members unheard of for a day are ignored', what: "hash host:interface → {mtu, at}: the interfaces on one network path (a VLAN or a network.mtu_groups entry), whichever system reported them (rules/paths.ts)" },

  // incidents (incidents/store.ts, incidents/scripts.ts)
  group: { parts: ['hash'], owner: 'incidents', retention: 'none while firing; incidents.retention once resolved', what: "a group key's latest incident: its header (JSON, no anomalies; incidents/record.ts); hash = stableHash([group key])" },
  incident: { parts: ['id'], owner: 'incidents', retention: 'none while firing; incidents.retention once resolved', what: 'the same header, by incident id' },
  anomalies: { parts: ['id'], owner: 'incidents', retention: 'none while firing; incidents.retention once resolved', what: "hash fingerprint → the incident's anomaly (JSON)" },
  content: { parts: ['hash'], owner: 'incidents', retention: 'none while firing; incidents.retention once resolved', what: "hash for the group's open incident: @id → its id; <fp> → content digest; <fp>#at, <fp>#n → when and how often it was seen again unchanged" },
  'incidents:firing': { parts: [], owner: 'incidents', retention: 'none; an id leaves when it resolves', what: 'set of firing incident ids' },
  'incidents:resolved': { parts: [], owner: 'incidents', retention: 'trimmed to incidents.retention', what: 'zset id → resolvedAt (ms)' },
  'incidents:recent': { parts: [], owner: 'incidents', retention: 'trimmed to incidents.retention', what: 'zset id → updatedAt (ms)' },
  outbox: { parts: [], owner: 'incidents', retention: 'none; an id leaves when its report is claimed', what: 'zset id → when its next report is due (ms): news not yet reported (group_wait / group_interval)' },
  attention: { parts: ['id'], owner: 'incidents', retention: 'incidents.retention', what: "hash: who acknowledged the incident and when (ack_by, ack_at), until when it is snoozed (snooze_until ms, snooze_by, snooze_at) (incidents/actions.ts)" },
  actions: { parts: ['id'], owner: 'incidents', retention: 'incidents.retention; at most 200 entries', what: 'list of what people did about the incident (acknowledged, snoozed, resolved by hand, silenced), oldest first (JSON)' },
  pace: { parts: ['id'], owner: 'incidents', retention: 'incidents.retention', what: 'hash: reported (last revision reported), flushedAt (when that report began), owner/ownedAt (the triage job making a report now)' },

  // the queue (queue/index.ts): BullMQ names its own keys below this one
  q: { parts: [], owner: 'queue', retention: 'completed jobs 24 h, failed jobs 14 days (at most 5000 each)', what: "BullMQ's prefix: it keeps each queue (triage, notify, digest) under P:q:<queue>:<its own suffixes>" },

  // triage (triage/reports.ts, triage/conversations.ts)
  report: { parts: ['id', 'rev'], owner: 'triage', retention: 'incidents.retention', what: 'the report made for a revision (JSON); rev-<variant> for an extra message about it (again<n>, flapping)' },
  revision: { parts: ['id', 'rev'], owner: 'triage', retention: 'incidents.retention; one kept per incident', what: 'the incident as it was when its last report was made (what the next report compares with)' },
  cost: { parts: ['id'], owner: 'triage', retention: 'incidents.retention', what: 'hash: tokens (input, output, cache_read, cache_write), usd and investigations triage spent on the incident' },
  spend: { parts: ['day'], owner: 'triage', retention: 'incidents.retention', what: 'hash: what the model cost on a day (YYYY-MM-DD, local time): usd, investigations (triage reports) and asks (dashboard questions) (triage/spend.ts)' },
  conversation: { parts: ['id'], owner: 'triage', retention: 'incidents.retention after its last turn; at most 50 turns', what: "hash: a dashboard conversation (triage/conversations.ts): at, by (who asked first), question (the first), usd (total), turns (count); turn:<n> → {at, question, answer, calls, tokens, usd} (JSON)" },
  conversations: { parts: [], owner: 'triage', retention: 'trimmed to incidents.retention', what: 'zset conversation id → its last turn (ms)' },

  // notify (notify/ledger.ts, notify/state.ts)
  sending: { parts: ['id', 'rev', 'channel'], owner: 'notify', retention: 'incidents.retention; deleted with the outcome', what: 'delivery intent: a send began at `at` in job `job`; rev is rev[-variant], or the period for id "digest"' },
  delivery: { parts: ['id', 'rev', 'channel'], owner: 'notify', retention: 'incidents.retention', what: "delivery outcome: sent, with the channel's reference (Message-ID…)" },
  failure: { parts: ['id', 'rev', 'channel'], owner: 'notify', retention: 'incidents.retention', what: "a delivery's last failure {at, error} (the dashboard's timeline); rev as in sending" },
  announced: { parts: ['id'], owner: 'notify', retention: 'incidents.retention', what: 'when the incident was last announced and how many reminders it has had (the repeat clock)' },
  reminder: { parts: ['id', 'n'], owner: 'notify', retention: 'incidents.retention', what: "claim on an incident's reminder n: the process that set it sends it" },
  changes: { parts: ['hash'], owner: 'notify', retention: 'twice notify.flapping.window', what: "zset of a group's opens and resolves within the flapping window; hash as in group" },
  flapping: { parts: [], owner: 'notify', retention: 'none; an entry leaves when its group settles', what: 'hash group key → {since, last, changes} of each flapping group' },
  'digest:last': { parts: [], owner: 'notify', retention: 'none', what: 'the end of the last digest period (ISO); only moves forward' },
  linkkey: { parts: [], owner: 'notify', retention: 'none; made once, shared by every labwatch on this Redis', what: 'the HMAC-SHA256 key (32 random bytes, base64) that signs the Acknowledge / Snooze links in messages (notify/action-links.ts)' },
  linkused: { parts: ['nonce'], owner: 'notify', retention: "until the link's expiry", what: 'a signed link that was used (value: action and incident): a link acts once' },

  // http (http/session.ts): the dashboard's log-ins
  session: { parts: ['hash'], owner: 'http', retention: '14 days after its last use', what: "a dashboard session: {name, csrf, at}; hash = sha256 of the cookie's id (the id itself is never stored)" },

  // tools (tools/audit.ts)
  audit: { parts: [], owner: 'tools', retention: 'the last ~10 000 entries', what: 'stream of tool calls: the audit trail (also in the JSONL file)' },
  calls: { parts: ['id'], owner: 'tools', retention: '30 days; the first 200 per incident', what: "list of the tool calls made for an incident with their results (the audit entry plus `result`, secrets scrubbed), oldest first: the dashboard's investigation view" },
} as const satisfies Record<string, Family>;

type KeyFamily = keyof typeof KEY_FAMILIES;
type Parts<T extends readonly string[]> = { [K in keyof T]: string | number };
type OwnedBy<O extends Owner> = { [F in KeyFamily]: (typeof KEY_FAMILIES)[F]['owner'] extends O ? F : never }[KeyFamily];

/** A key of `family` under `prefix`. Stores use keysOf; this is for the composition (the audit stream) and for reading another stage's key on purpose. */
export function redisKey<F extends KeyFamily>(prefix: string, family: F, ...parts: Parts<(typeof KEY_FAMILIES)[F]['parts']>): string {
  return parts.length ? `${prefix}:${family}:${parts.join(':')}` : `${prefix}:${family}`;
}

/** The key builder of one stage: it can name only the families that stage owns. */
export type StageKeys<O extends Owner> = <F extends OwnedBy<O>>(family: F, ...parts: Parts<(typeof KEY_FAMILIES)[F]['parts']>) => string;

export function keysOf<O extends Owner>(prefix: string, _owner: O): StageKeys<O> {
  return (family, ...parts) => redisKey(prefix, family, ...parts);
}
