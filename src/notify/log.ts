/**
 * The notifier used when no channel is configured: the report goes to the log, so a fresh install
 * shows what it would have sent instead of dropping it.
 */
import type { Logger } from '../telemetry/log.ts';
import type { Report } from '../triage/report.ts';
import type { Notifier } from './notifier.ts';
import { renderText, subjectOf } from './render.ts';

export class LogNotifier implements Notifier {
  readonly channel = 'log';
  constructor(private readonly log: Logger) {}

  async send(report: Report): Promise<undefined> {
    if (!this.log.isLevelEnabled('warn')) return undefined; // don't render what nobody will read
    this.log.warn(
      { incident: report.incidentId, revision: report.revision, subject: subjectOf(report), report: renderText(report) },
      'notification (no email or ntfy configured, so it is written here)',
    );
    return undefined;
  }

  async probe(): Promise<void> {}
  async close(): Promise<void> {}
}
