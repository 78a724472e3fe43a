/**
 * The notifier used when no channel is configured: the report goes to the log, so a fresh install
 * shows what it would have sent instead of dropping it. Not a channel one configures, so not in
 * CHANNELS: buildNotifiers falls back to it.
 */
import type { Logger } from '../../../telemetry/log.ts';
import type { Message, Notifier } from '../../notifier.ts';

export class LogNotifier implements Notifier {
  readonly channel = 'log';
  constructor(private readonly log: Logger) {}

  async send(m: Message): Promise<undefined> {
    this.log.warn({ message: m.key, subject: m.subject, report: m.text }, 'notification (no notification channel configured, so it is written here)');
    return undefined;
  }

  async probe(): Promise<void> {}
  async close(): Promise<void> {}
}
