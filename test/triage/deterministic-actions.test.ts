/**
 * Without a model, the report's "What to do" is what the shipped rules declare: a real failing
 * drive's smartctl output through the collector, the shipped rules and an incident gives concrete
 * steps, most urgent first, each said once; only an alert with nothing to say gets generic advice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSmartctl } from '../../src/connectors/smart/parse.ts';
import { driveObservation } from '../../src/connectors/smart/collect.ts';
import type { Anomaly } from '../../src/connectors/types.ts';
import { loadRules } from '../../src/rules/load.ts';
import { contextFor, evaluateRule, rulesFor } from '../../src/rules/evaluate.ts';
import type { Observation } from '../../src/rules/observation.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { sharedFixture } from '../helpers/fixtures.ts';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

const RULES = loadRules(fileURLToPath(new URL('../../rules/', import.meta.url))).rules;
const AT = '2026-11-24T10:00:00.000Z';

function anomaliesOf(obs: Observation): Anomaly[] {
  const ctx = contextFor(obs, undefined, [], new Date(obs.at));
  return rulesFor(RULES, obs).flatMap((r) => evaluateRule(r, obs, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? []);
}

function drive(fixture: string, exit: number, device: string, group?: string): Observation {
  const d = parseSmartctl(readFileSync(sharedFixture('smartctl', fixture), 'utf8'), exit, { device, type: 'sat' });
  return { ...driveObservation(d, 'nas', AT), ...(group ? { group } : {}) };
}

const RANK = { now: 0, soon: 1, 'when convenient': 2 };

test('a failing drive gets the rules\' own steps, most urgent first, not the generic advice', () => {
  const anomalies = anomaliesOf(drive('sata-hdd-failing-usb-jmicron-reallocated-exit216.json', 216, '/dev/sdc'));
  assert.ok(anomalies.length >= 3, anomalies.map((a) => a.rule).join(', '));
  const report = deterministicReport(mergeAnomalies(null, anomalies, AT)!.incident, [], new Date(AT));
  const texts = report.actions.map((a) => a.text);
  assert.ok(!texts.some((t) => t.includes('runbook_url')), texts.join('\n'));
  assert.ok(texts.some((t) => t.includes('smartctl -t long /dev/sdc')), texts.join('\n'));
  assert.match(texts[0]!, /^Back up what is on disk:\S+ \(\/dev\/sdc\)/);
  assert.equal(report.actions[0]!.urgency, 'now');
  const ranks = report.actions.map((a) => RANK[a.urgency!]);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'most urgent first');
  assert.equal(new Set(texts).size, texts.length, 'each step once');
});

test('the same step from two alerts in one incident is said once', () => {
  // Two real drives with pending sectors, observed as members of one pool: one incident.
  const a = drive('sata-hdd-failing-usb-jmicron-reallocated-exit216.json', 216, '/dev/sdc', 'pool:tank');
  const b = { ...a, subject: 'disk:OTHER', values: { ...a.values, device: '/dev/sdd' } };
  const anomalies = [...anomaliesOf(a), ...anomaliesOf(b)];
  const report = deterministicReport(mergeAnomalies(null, anomalies, AT)!.incident, [], new Date(AT));
  const replace = report.actions.filter((x) => x.text === 'If the pending count keeps growing, replace the drive.');
  assert.equal(replace.length, 1);
  assert.ok(report.actions.some((x) => x.text.includes('/dev/sdd')));
});

test('an Alertmanager alert with no runbook, expression or actions still gets the generic advice', () => {
  // The real payload's alert, without its generatorURL link
  const [alert] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021)));
  const report = deterministicReport(mergeAnomalies(null, [{ ...alert!, links: [] }], AT)!.incident, [], new Date(AT));
  assert.equal(report.actions.length, 1);
  assert.match(report.actions[0]!.text, /^Look at .+ and confirm DemoAlert; the alert carries no runbook, so add a runbook_url annotation/);
});

test("a failed backup's task log appears once in the report, under what was observed; the summary keeps its first line", () => {
  const log = readFileSync(fileURLToPath(new URL('../fixtures/proxmox/task-log-vzdump-lxc-107-permission-denied.txt', import.meta.url)), 'utf8').trim().split('\n');
  const obs: Observation = {
    source: 'proxmox',
    kind: 'backup_run',
    subject: 'backup:107',
    host: 'hp2',
    at: AT,
    values: { vmid: 107, node: 'hp2', guest: 'pihole-secondary', last_status: 'failed', failures_in_row: 1, last_error: 'command … failed: exit code 2', log_tail: log.slice(-12).join('\n'), task: 'UPID:hp2:0020C066:042DF204:6300F66C:vzdump:107:root@pam:', ended_at: AT },
  };
  const report = deterministicReport(mergeAnomalies(null, anomaliesOf(obs), AT)!.incident, [], new Date(AT));
  const shown = JSON.stringify([report.summary, report.facts, report.causes, report.actions]);
  assert.equal(shown.split('Cannot open: Permission denied').length - 1, 1, 'the log tail once');
  assert.match(report.summary, /backup of pihole-secondary \(107\) failed on hp2.*the last lines of its task log:$/);
  assert.ok(report.facts.some((f) => f.text.includes('Cannot open: Permission denied')));
  assert.deepEqual(report.causes, []);
});
