/**
 * SATA SSD wear through the real exec path (test/bin/smartctl replaying real captures): a worn
 * Intel drive (Media_Wearout_Indicator 15) raises ssd-wear-high with concrete steps; a healthy
 * Samsung 860 EVO and a Dell-branded Intel whose 233 is Total_LBAs_Written stay silent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smartCollector } from '../../../src/connectors/smart/collect.ts';
import { SmartReader } from '../../../src/connectors/smart/read.ts';
import type { Anomaly, Observation } from '../../../src/connectors/types.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { mergeAnomalies } from '../../../src/incidents/merge.ts';
import { deterministicReport } from '../../../src/triage/deterministic.ts';
import { fixturePath } from '../../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/', import.meta.url));
const RULES = loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url))).rules;

/** Reads the given devices (basename → smartctl fixture) with the stand-in smartctl. */
async function collect(devices: Record<string, string>): Promise<Observation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-wear-'));
  const scan = JSON.parse(readFileSync(fixturePath('smartctl', 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
  scan.devices = scan.devices.filter((d) => d.name.replace('/dev/', '') in devices);
  writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
  for (const [name, fixture] of Object.entries(devices)) {
    copyFileSync(fixturePath('smartctl', fixture), join(dir, `${name}.json`));
    writeFileSync(join(dir, `${name}.exit`), '0');
  }
  process.env.FAKE_SMARTCTL_DIR = dir;
  return smartCollector({ host: 'nas', reader: new SmartReader({ smartctl: join(BIN, 'smartctl') }) }).collect(AbortSignal.timeout(10_000));
}

function anomaliesOf(obs: Observation): Anomaly[] {
  const ctx = contextFor(obs, undefined, [], new Date(obs.at));
  return rulesFor(RULES, obs).flatMap((r) => evaluateRule(r, obs, ctx, { count: r.forCount, firing: false, since: new Date(0).toISOString() }).anomaly ?? []);
}

test('a worn SATA SSD (Media_Wearout_Indicator 15) is reported with what to do; a healthy one stays silent', async () => {
  const obs = await collect({ sda: 'sata-ssd-worn-intel-ssdsc2bb016t4-media-wearout-15.json', sdb: 'sata-ssd-healthy-samsung-860evo-xall.json' });
  const worn = obs.find((o) => o.values.device === '/dev/sda')!;
  const healthy = obs.find((o) => o.values.device === '/dev/sdb')!;
  assert.equal(worn.values.wear_pct_used, 85);
  assert.equal(healthy.values.wear_pct_used, 19); // Samsung's 177 Wear_Leveling_Count at 81
  assert.deepEqual(anomaliesOf(healthy), []);

  const raised = anomaliesOf(worn);
  assert.deepEqual(raised.map((a) => [a.rule, a.severity]), [['ssd-wear-high', 'warning']]);
  assert.match(raised[0]!.summary, /about 85 % of rated endurance used \(233 Media_Wearout_Indicator = 15\)/);
  const report = deterministicReport(mergeAnomalies(null, raised, worn.at)!.incident, [], new Date(worn.at));
  const steps = report.actions.map((a) => a.text).join('\n');
  assert.match(steps, /backed up or redundant/);
  assert.match(steps, /Order a replacement for disk:REDACTED/);
  assert.doesNotMatch(steps, /runbook_url/);
});

test('ids that mean other things on other drives do not count as wear (Dell S3520: 233 is Total_LBAs_Written)', async () => {
  const [dell] = await collect({ sda: 'sata-ssd-dell-intel-s3520-233-is-total-lbas-written.json' });
  assert.equal(dell!.values.state, 'ok');
  assert.equal('wear_pct_used' in dell!.values, false);
  assert.deepEqual(anomaliesOf(dell!), []);
});
