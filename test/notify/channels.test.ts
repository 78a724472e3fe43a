/**
 * The channel list drives the config, the secrets, the default routes and the digest: a channel
 * is its folder plus one line in CHANNELS, and a name that is not configured is a config error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { blockSecrets } from '../../src/config/schema.ts';
import { CHANNELS, buildNotifiers } from '../../src/notify/channels/index.ts';
import { DEFAULT_ROUTES, route } from '../../src/notify/routes.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-channels-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const token = file('gotify-token', 'AWH0wZ5r0Mbac.r\n');
const NEW_CHANNELS = `  gotify:\n    url: http://gotify.lan\n    token_file: ${token}\n  apprise:\n    url: http://apprise.lan:8000\n    key: labwatch\n  webhook:\n    url: http://ha.lan:8123/api/webhook/labwatch\n`;

function problems(yaml: string): string[] {
  try {
    loadConfig(file(`c-${Math.random().toString(36).slice(2)}.yaml`, yaml), {});
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail('expected the config to be refused');
}

function incident(severity: string) {
  const body = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string> }[] };
  body.alerts[0]!.labels.severity = severity;
  return mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(body)), '2026-11-24T10:00:00Z')!.incident;
}

test('gotify, apprise and webhook blocks are part of notify:, and each configured channel gets a notifier', () => {
  const cfg = loadConfig(file('new.yaml', `notify:\n${NEW_CHANNELS}`), {});
  assert.equal(blockSecrets(cfg, 'notify.gotify').token_file, 'AWH0wZ5r0Mbac.r');
  assert.deepEqual([...buildNotifiers(cfg, createLogger({ level: 'silent' })).keys()], ['gotify', 'apprise', 'webhook']);
  assert.deepEqual(cfg.notify.digest.channels, ['gotify', 'apprise', 'webhook'], 'the digest goes to every configured channel');
  const env = loadConfig(file('env.yaml', `notify:\n${NEW_CHANNELS}`), { LABWATCH_GOTIFY_TOKEN: 'from-env' });
  assert.equal(blockSecrets(env, 'notify.gotify').token_file, 'from-env');
});

test('default routes send every severity to every configured channel: critical at once; warning at once except email (digest); info in the digest', () => {
  const all = CHANNELS.map((c) => c.name);
  const as = (sev: string) => Object.fromEntries(route(incident(sev), DEFAULT_ROUTES, all));
  assert.deepEqual(as('critical'), { email: 'immediate', ntfy: 'immediate', gotify: 'immediate', apprise: 'immediate', webhook: 'immediate' });
  assert.deepEqual(as('warning'), { email: 'digest', ntfy: 'immediate', gotify: 'immediate', apprise: 'immediate', webhook: 'immediate' });
  assert.deepEqual(as('info'), { email: 'digest', ntfy: 'digest', gotify: 'digest', apprise: 'digest', webhook: 'digest' });
  assert.deepEqual(Object.fromEntries(route(incident('warning'), DEFAULT_ROUTES, ['webhook'])), { webhook: 'immediate' }, 'a new channel alone is not silently unrouted');
});

test('a route or the digest naming a channel that is not configured is a config error at its line, listing the configured channels', () => {
  const yaml = `notify:\n${NEW_CHANNELS}  routes:\n    - match: { severity: critical }\n      channels: [gotify, pushover]\n    - channels: [email]\n  digest:\n    channels: [webhok]\n`;
  const line = (text: string) => yaml.split('\n').findIndex((l) => l.includes(text)) + 1;
  const knows = '(it knows email, ntfy, gotify, apprise, webhook)';
  assert.deepEqual(problems(yaml).map((p) => p.replace(/^.*\.yaml:/, '')), [
    `${line('[gotify, pushover]')}: notify.routes[0].channels[1]: expected a configured channel; labwatch has no channel "pushover" ${knows} (configured: gotify, apprise, webhook)`,
    `${line('[email]')}: notify.routes[1].channels[0]: expected a configured channel; "email" has no notify.email block (configured: gotify, apprise, webhook)`,
    `${line('[webhok]')}: notify.digest.channels[0]: expected a configured channel; labwatch has no channel "webhok" ${knows} (configured: gotify, apprise, webhook)`,
  ]);
});

test('an unknown key in a new channel block is refused, and a token inline is pointed to its *_file', () => {
  const p = problems(`notify:\n  gotify:\n    url: http://g\n    token_file: ${token}\n    token: abc\n`);
  assert.equal(p.length, 1);
  assert.match(p[0]!, /notify\.gotify: unknown key token: secrets are not read inline, use token_file \(or the LABWATCH_GOTIFY_TOKEN environment variable\)/);
});

test('with no channel configured a route naming one says reports go to the log', () => {
  const [p] = problems('notify:\n  routes:\n    - channels: [ntfy]\n');
  assert.match(p!, /:3: notify\.routes\[0\]\.channels\[0\]: expected a configured channel; "ntfy" has no notify\.ntfy block \(configured: none, so reports go to the log\)$/);
});

test('a webhook header secret is read from its file by the loader', () => {
  const auth = file('hook-auth', 'Bearer s3cret-hook\n');
  const cfg = loadConfig(file('hook.yaml', `notify:\n  webhook:\n    url: http://ha.lan/hook\n    headers_files:\n      Authorization: ${auth}\n`), {});
  assert.equal(blockSecrets(cfg, 'notify.webhook')['headers_files.Authorization'], 'Bearer s3cret-hook');
  const missing = problems(`notify:\n  webhook:\n    url: http://ha.lan/hook\n    headers_files:\n      Authorization: ${join(dir, 'nope')}\n`);
  assert.match(missing[0]!, /:5: notify\.webhook\.headers_files\.Authorization: cannot read .*nope/);
});
