/**
 * What a connector is to the rest of labwatch. Each system is one folder under connectors/ whose
 * index.ts exports one `Connector`, listed once in connectors/index.ts. The core (rules,
 * incidents, queue, triage, notify, http) only knows these shapes, never a system by name: the
 * config schema, the secrets read, `observe`'s choices, `check`'s probes, the tools offered and
 * what the prompts say this lab has all derive from the list and from what is enabled.
 */
import type * as z from 'zod';
import type { SecretSpec } from '../config/parts.ts';
import type { Logger } from '../telemetry/log.ts';
import type { ToolSpec } from '../tools/types.ts';
import type { OnTruncated } from './limits.ts';

/*
 * The values connectors hand to the core: observations (what a collector read), and anomalies
 * (what a system that pushes alerts says is wrong; rules make them from observations too).
 */

/**
 * An observation: what a collector saw about one subject at one time. Values are a flat-ish map
 * so that rule conditions can name them (`values.reallocated_sectors > 0`); numbers are kept as
 * history so that rules can see change, not only level.
 */
export interface Observation {
  /** the connector: smart, zfs, host, … */
  source: string;
  /** what the subject is: drive, pool, vdev, filesystem, interface, memory, … */
  kind: string;
  /** stable identity in the homelab's words: disk:<serial>, pool:tank, vdev:tank/sda, fs:/srv */
  subject: string;
  host: string;
  at: string;
  values: Record<string, unknown>;
  /** anomalies about this subject join this incident group (e.g. the pool a disk belongs to) */
  group?: string;
  /**
   * Other subjects this one is (a vdev named by-id is disk:<serial>). With a group, they are
   * remembered, so a later observation of disk:<serial> from another connector joins the pool.
   */
  aliases?: string[];
  /** one line for people (the digest's health overview): "WDC WD20EFRX · 38 °C · 0 reallocated" */
  summary?: string;
  /** the value whose trend the overview shows as an arrow (e.g. reallocated_sectors, capacity_pct) */
  trend?: string;
  /**
   * Made for one rule only (a series its query returned): only that rule sees it, and its
   * history is kept apart from other rules' readings of the same subject.
   */
  rule?: string;
  /** The subject is gone (a series no longer returned): what held about it no longer does. */
  gone?: boolean;
  /**
   * The source whose rules also apply, when this connector reads the same thing another way (a
   * drive's SMART data read through the Proxmox API is a `smart` reading). Subject, fingerprint
   * and incident are shared with the other path; rule state and history are kept per path, so
   * one path that lacks a value never resolves what the other one raised.
   */
  reading?: string;
  /**
   * Read on the machine that made it (a local `zpool`, `smartctl`, the host's own interfaces): a
   * subject other than a drive then names a thing only on that host, so its identity carries the
   * host. The watcher sets it for collectors of a `local` connector.
   */
  local?: boolean;
  /**
   * How far the wall clock jumped (an NTP step, a resume from suspend) since the previous run of
   * the same collector in this process, beyond the time that really passed (the monotonic clock):
   * set by the watcher when it is a second or more. A rule's `for:` does not count it as time held.
   */
  clockStepMs?: number;
}

/** The numbers of an observation at one time, as kept in history. */
export interface HistoryPoint {
  at: string;
  values: Record<string, number>;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface Link {
  title: string;
  url: string;
  /** what the link is for, when reports treat it specially: the query or expression that raised the alert */
  role?: 'source';
}

/** A verdict that something is wrong (firing) or no longer wrong (resolved), from a rule or an alert. */
export interface Anomaly {
  /** Stable across restarts and hosts: derived from labels and rule ids only, never from free text. */
  fingerprint: string;
  /** Which connector produced it: "alertmanager", "smart", "zfs", … */
  source: string;
  /** The rule id or alertname. */
  rule: string;
  severity: Severity;
  /** What is affected, in the homelab's words: an instance, `disk:<serial>`, `pool:tank`. */
  subject: string;
  host: string;
  summary: string;
  description?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: Link[];
  /** What a person does about it, as the rule that raised it says (labwatch's own rules). */
  actions?: { text: string; urgency: 'now' | 'soon' | 'when convenient' }[];
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
  /** Anomalies sharing a group key become one incident. */
  groupKey: string;
}

/** Thrown by an intake for a payload it cannot accept: becomes HTTP 400 with this message. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** A system that pushes alerts to labwatch over HTTP: mounted at `POST /webhook/<path>`. */
export interface WebhookIntake {
  /** Anomaly source name, also the metrics label. */
  source: string;
  path: string;
  /**
   * Validates a parsed JSON body and maps it to anomalies; throws PayloadError when invalid.
   * Values over the size limits (connectors/limits.ts) are cut, not refused, and reported to `onTruncated`.
   */
  parse(body: unknown, onTruncated?: OnTruncated): Anomaly[];
  /** words for HTTP errors, in the sender's terms */
  hints?: {
    /** what the payload is called: "the Alertmanager webhook payload" */
    payload?: string;
    /** what the sender can change when a body is too large: "lower max_alerts in the Alertmanager webhook config" */
    tooLarge?: string;
  };
}

/** A system labwatch polls. Its read logic lives in its connector folder. */
export interface Collector {
  /** the connector's name; also the config key under `watch:` */
  name: string;
  /** Reads the system now. Throws for a problem a person must fix. */
  collect(signal: AbortSignal): Promise<Observation[]>;
}

/** A collector with its schedule. */
export interface Scheduled {
  collector: Collector;
  /** cron expression (5 or 6 fields) */
  schedule: string;
  timeoutMs: number;
  /** up to this much random delay before each run */
  jitterMs: number;
  /** reads the machine it runs on: runs once per host, not once per lab (from its connector's `local`) */
  local?: boolean;
  /** for a collector of a lab system: which system (a short hash of its address), so each system's runs are shared apart */
  target?: string;
}

/** One line of `labwatch check`: resolves to what answered ("Prometheus http://… (version 3.5)"), or throws what is wrong. */
export interface Probe {
  name: string;
  probe(): Promise<string>;
}

/** What a rule's expressions see of one reading (rules/cel.ts evaluates them over this). */
export interface ReadingContext {
  values: Record<string, unknown>;
  prev: Record<string, unknown>;
  delta: Record<string, number>;
  rate: Record<string, number>;
  subject: string;
  host: string;
  now: Date;
}

/** A rule as a collector that runs rule queries sees it (rules/load.ts's Rule has these and more). */
export interface RuleQuery {
  id: string;
  source: string;
  kind: string;
  query?: string | undefined;
  /** names the subject of a returned series from its values */
  subject?: ((ctx: ReadingContext) => string) | undefined;
}

/** What a connector is given to build its parts. */
export interface ConnectorContext<C = any, W = any> {
  /** its top-level block (`prometheus:`), when the file sets one */
  block: C | undefined;
  /** its `watch.<name>` block, defaults filled; undefined when it declares none */
  watch: W;
  /** its secrets, by the `file` key that declared them */
  secrets: Record<string, string>;
  /** this machine's name, for observations */
  host: string;
  log: Logger;
  /** the rules as loaded now (they change on reload), for collectors that run rule queries */
  rules: () => RuleQuery[];
  /** a subject's recent readings, for tools that show a trend (absent without Redis) */
  history?: (subject: string) => Promise<HistoryPoint[]>;
  /** up to this much random delay before each scheduled run (watch.jitter) */
  jitterMs: number;
}

export interface Connector<C = any, W = any> {
  /** the config key (`<name>:` and `watch.<name>:`), the collector's name, `observe <name>` */
  name: string;
  /** one line for people: `--help`, `check`, `observe` */
  description: string;
  /** what the prompts say this lab has while it is on, e.g. "drives (SMART)" */
  covers: string;
  /** the tools to start an investigation with (a list of the system's things) */
  start?: string[];
  /** its top-level block, optional in the file */
  config?: z.ZodType<C>;
  /** its `watch.<name>` block (with `.prefault({})` so defaults apply) */
  watch?: z.ZodType<W>;
  /** secrets inside its top-level block */
  secrets?: SecretSpec[];
  /** Whether it is on, from the config alone (a block set, `enabled`, a binary found on PATH). */
  enabled(ctx: ConnectorContext<C, W>): boolean;
  /**
   * Whether its tools can be offered now: null when its binary or API answers, else why not.
   * Checked before the tools are listed to anyone (a HolmesGPT-style prerequisite); absent = always.
   */
  ready?(ctx: ConnectorContext<C, W>, signal: AbortSignal): Promise<string | null>;
  collectors?(ctx: ConnectorContext<C, W>): Scheduled[];
  tools?(ctx: ConnectorContext<C, W>): ToolSpec[];
  probes?(ctx: ConnectorContext<C, W>): Probe[];
  /** the systems that push alerts to labwatch through this connector (always mounted) */
  intakes?: WebhookIntake[];
  /**
   * It reads the machine labwatch runs on (drives, pools, interfaces), not a system reached over
   * the network: each node's collector runs it for its own host, and its subjects carry the host.
   */
  local?: boolean;
  /** `observe <name>` runs its collectors even when `enabled` says no (e.g. auto and not on PATH), to show why */
  forceable?: boolean;
  /**
   * Silences its own anomalies (those whose source is this connector) at the system for a while,
   * when the config enabled that write: the dashboard's "silence" action, done as a logged-in person.
   */
  silencer?(ctx: ConnectorContext<C, W>): Silencer | undefined;
}

/** Makes silences for some firing anomalies; returns what it made (id and end). */
export type Silencer = (anomalies: Anomaly[], durationMs: number, comment: string, signal: AbortSignal) => Promise<{ id: string; until: string }[]>;
