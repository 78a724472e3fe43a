/** `labwatch notify test`: a test message through each channel's real notifier, and the exact failure. */
import { hostname } from 'node:os';
import { CHANNELS, buildNotifiers } from '../notify/channels/index.ts';
import { messageFor } from '../notify/render.ts';
import { createLogger } from '../telemetry/log.ts';
import type { Report } from '../triage/report.ts';
import { configOrExit } from './common.ts';

/** A report that says it is a test, sent through each channel's real notifier. */
function testReport(host: string): Report {
  const now = new Date().toISOString();
  return {
    incidentId: `test-${Date.now().toString(36)}`,
    revision: 1,
    kind: 'opened',
    producer: 'deterministic',
    severity: 'info',
    host,
    title: 'labwatch test message',
    summary: 'If you can read this, labwatch can reach you on this channel. Nothing is wrong.',
    changes: [],
    facts: [{ text: `Sent by labwatch notify test from ${host} at ${now}` }],
    causes: [],
    actions: [],
    alerts: [],
    links: [],
    openedAt: now,
    since: now,
    createdAt: now,
    notes: [],
  };
}

export async function notifyTest(opts: { config?: string; channel?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const names = CHANNELS.map((c) => c.name);
  if (opts.channel && !names.includes(opts.channel)) {
    process.stderr.write(`labwatch: there is no channel ${opts.channel}; labwatch knows ${names.join(', ')}\n`);
    process.exit(1);
  }
  const notifiers = buildNotifiers(cfg, createLogger({ level: 'silent' }));
  const chosen = [...notifiers.entries()].filter(([ch]) => ch !== 'log' && (!opts.channel || ch === opts.channel));
  if (chosen.length === 0) {
    process.stderr.write(
      opts.channel
        ? `labwatch: channel ${opts.channel} is not configured (notify.${opts.channel} in ${cfg.source})\n`
        : `labwatch: no notification channel configured in ${cfg.source} (${names.map((n) => `notify.${n}`).join(', ')})\n`,
    );
    process.exit(1);
  }
  const report = testReport(hostname());
  let failed = 0;
  for (const [channel, notifier] of chosen) {
    const t0 = Date.now();
    try {
      const ref = await notifier.send(messageFor(report));
      process.stdout.write(`ok    ${channel}: delivered in ${Date.now() - t0} ms${ref ? ` (${ref})` : ''}\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`FAIL  ${(e as Error).message}\n`);
    } finally {
      await notifier.close();
    }
  }
  if (failed) process.exit(1);
}

