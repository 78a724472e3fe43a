/**
 * Triage turns one incident revision into a report. Until Claude's investigation lands, the
 * deterministic triager is the only one; an AI triager will implement the same interface and
 * fall back to this one whenever it cannot produce a report.
 */
import type { Incident } from '../incidents/types.ts';
import { deterministicReport } from './deterministic.ts';
import type { Report } from './report.ts';

export interface Triager {
  investigate(incident: Incident): Promise<Report>;
}

export class DeterministicTriager implements Triager {
  constructor(private readonly why: string) {}

  async investigate(incident: Incident): Promise<Report> {
    return deterministicReport(incident, [this.why]);
  }
}
