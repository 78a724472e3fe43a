/**
 * The report a person receives about one incident revision. Triage by Claude and the
 * deterministic fallback both produce this shape; renderers and notifiers only know this.
 */
import type { Link, RevisionKind, Severity } from '../incidents/types.ts';

export interface Fact {
  text: string;
  /** Where the fact came from: an alert, a tool call ("smart_drive_health({…})"), a rule. */
  source?: string;
}

export interface Cause {
  text: string;
  /** Causes are hypotheses; confidence says how strongly the evidence supports each. */
  confidence?: 'low' | 'medium' | 'high';
}

export interface Action {
  text: string;
  urgency?: 'now' | 'soon' | 'when convenient';
}

export interface AlertLine {
  name: string;
  status: 'firing' | 'resolved';
  severity: Severity;
  subject: string;
  since: string;
  endedAt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Report {
  incidentId: string;
  revision: number;
  /** what this message is: a new revision, a reminder that it is still open, or a flapping notice */
  kind: RevisionKind | 'reminder' | 'flapping';
  /** an extra message about a revision: "again1", "again2" (reminders), "flapping" */
  variant?: string;
  /** "deterministic" (rules and alert text only) or "ai" (Claude's investigation). */
  producer: 'deterministic' | 'ai';
  severity: Severity;
  host: string;
  title: string;
  /** One paragraph: what is happening and why it matters. */
  summary: string;
  changes: string[];
  facts: Fact[];
  causes: Cause[];
  actions: Action[];
  alerts: AlertLine[];
  links: Link[];
  openedAt: string;
  /** When the problem started (earliest firing alert). */
  since: string;
  resolvedAt?: string;
  createdAt: string;
  /** Said in the footer: e.g. why the AI part is missing. */
  notes: string[];
  /** What Claude's part of this report cost (also when it failed part-way and the fallback went out). */
  triage?: TriageCost;
}

export interface TriageCost {
  model: string;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  /** US$, from the price table in config; 0 for a local model */
  costUsd: number;
  /** a model on one's own server: no price, and its token counts are the server's estimate */
  local?: true;
}
