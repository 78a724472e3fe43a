/**
 * The JSON the dashboard API (`/api/*`) answers: the contract between the daemon, the page
 * (src/web/) and scripts. README's "Dashboard API" section documents the same shapes.
 */
import type { AnomalyState, Severity } from '../../incidents/types.ts';
import type { ActionEntry, Attention } from '../../incidents/actions.ts';
import type { Report } from '../../triage/report.ts';

/** GET /api/session: who is looking, and what they may do. */
export interface SessionInfo {
  /** a session cookie or the bearer token is in use */
  authenticated: boolean;
  /** the name given at log-in (or "local user" on an open dashboard) */
  name?: string;
  /** send as X-CSRF-Token with every POST made with the session cookie */
  csrf?: string;
  /** no http.token_file: anyone who reaches the page may use it */
  open: boolean;
  /** actions (acknowledge, snooze, resolve, silence, ask) are allowed to this caller */
  writable: boolean;
  /** shown at the top of the page when set (an open dashboard says so) */
  banner?: string;
  /** a token is configured and no session: show the log-in form */
  loginRequired: boolean;
}

/** One incident in the list (GET /api/incidents, and each SSE `incident` event). */
export interface IncidentRow {
  id: string;
  title: string;
  host: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  since: string;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  revision: number;
  /** one line: the latest report's summary, else the title */
  cause: string;
  sources: string[];
  subjects: string[];
  firing: number;
  anomalies: number;
  attention: Attention;
}

export type TimelineKind =
  | 'opened'
  | 'anomaly-firing'
  | 'anomaly-resolved'
  | 'report'
  | 'notification'
  | 'notification-failed'
  | 'resolved'
  | ActionEntry['action'];

export interface TimelineEvent {
  at: string;
  kind: TimelineKind;
  text: string;
  /** e.g. the channel, the revision, who */
  detail?: string;
}

/** One tool call of the investigation (the audit trail's entry for this incident). */
export interface ToolCallRow {
  /** index for GET /api/incidents/:id/calls/:n (the result on demand) */
  n: number;
  at: string;
  caller: string;
  tool: string;
  args: unknown;
  durationMs: number;
  bytes: number;
  outcome: string;
  /** the result is kept and can be fetched */
  hasResult: boolean;
}

/** GET /api/incidents/:id */
export interface IncidentDetail {
  incident: IncidentRow;
  anomalies: AnomalyState[];
  timeline: TimelineEvent[];
  /** the latest report exactly as sent (null: not reported yet) */
  report: Report | null;
  /** the same report rendered as the email's HTML body */
  reportHtml: string | null;
  calls: ToolCallRow[];
  cost: { investigations: number; usd: number; local: boolean; input: number; output: number; cacheRead: number; cacheWrite: number } | null;
  /** why the last report is not Claude's (the deterministic report's note), when it is not */
  fallback?: string;
  /** which actions this daemon offers for it (silence: the Alertmanager write tool is enabled and the incident has alerts from it) */
  can: { acknowledge: boolean; snooze: boolean; resolve: boolean; silence: boolean };
}

/** A subject's latest reading (drives, pools, hosts, guests, interfaces…). */
export interface SubjectRow {
  subject: string;
  kind: string;
  source: string;
  host: string;
  at: string;
  summary: string;
  arrow?: '↑' | '↓' | '→';
  /** the last observed values, as the collector gave them */
  values: Record<string, unknown>;
  /** rules firing on it now: rule id and severity */
  firing: { rule: string; severity: Severity; incident: string }[];
}

/** GET /api/subjects/:subject/history */
export interface HistoryAnswer {
  subject: string;
  points: { at: string; values: Record<string, number> }[];
}

/** GET /api/status: labwatch itself. */
export interface StatusAnswer {
  version: string;
  host: string;
  startedAt: string;
  collectors: { name: string; at: string; ok: boolean; error: string; observations: number }[];
  queues: Record<string, Record<string, number>>;
  channels: { name: string; circuit: 'closed' | 'open'; waitMs: number }[];
  ai: { enabled: boolean; model?: string; local?: boolean; spentTodayUsd: number; investigationsToday: number };
  redis: { up: boolean };
  audit: { problem: string | null };
}
