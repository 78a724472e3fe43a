/**
 * The eval harness itself: a firing scenario and a healthy control through the real daemon path
 * (stand-in smartctl/zpool on real captures, Redis, loopback SMTP and ntfy), scored as `npm run eval` scores them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenarios } from '../../eval/scenario.ts';
import { runScenario } from '../../eval/run.ts';
import { stripRun, wilsonLower } from '../../eval/score.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';

const scenarios = loadScenarios();
const byId = (id: string) => scenarios.find((s) => s.id === id)!;

describe('eval harness', () => {
  test('every scenario loads, reads real captures, and the suite has at least 40', () => {
    assert.ok(scenarios.length >= 40, `${scenarios.length} scenarios`);
    assert.ok(scenarios.some((s) => s.expect === 'silent'));
  });

  test('a failing drive in a degraded pool is reported with its serial, pool and ZFS message id', async () => {
    const o = await runScenario(byId('zfs/failing-drive-in-degraded-pool'));
    assert.equal(o.error, undefined);
    assert.ok(o.incidents >= 1 && o.messages >= 1);
    const found = Object.fromEntries(o.facts.map((f) => [f.name, f.found]));
    assert.equal(found.serial, true);
    assert.equal(found.pool, true);
    assert.equal(found.msgid, true);
    assert.doesNotMatch(o.text, /Firing since \d{4}-/, 'the run\'s own dates are stripped before matching');
  });

  test('a healthy dRAID pool stays silent: no incident, no message', async () => {
    const o = await runScenario(byId('controls/zfs-draid-healthy'));
    assert.equal(o.error, undefined);
    assert.equal(o.incidents, 0);
    assert.equal(o.messages, 0);
  });

  test('the model half scores the model\'s report and counts its tokens', async () => {
    const api = new ScriptedAnthropic({ local: true });
    await api.start();
    try {
      api.script({
        toolUse: [{ name: 'submit_report', input: { summary: 'Samsung 970 EVO S466NX0M776250H logs 7 media errors.', facts: [{ text: '7 media errors', tool_call: 'none' }], causes: [], actions: [{ text: 'Back up now, then replace the drive', urgency: 'now' }], not_checked: [] } }],
      });
      const o = await runScenario(byId('smart/nvme-media-errors-970evo'), { baseUrl: api.url });
      assert.equal(o.error, undefined);
      assert.equal(o.producer, 'ai');
      assert.equal(o.tokens.input, 1000);
      assert.match(o.text, /logs 7 media errors/);
    } finally {
      await api.stop();
    }
  });

  test('a fact only inside a collector\'s error message does not count', () => {
    const err = 'smartctl open device: /dev/sda failed: Open failed, Error=5';
    const text = stripRun(`disk /dev/sdb: ${err}`, { now: new Date(), host: 'nas01', extra: [] }, [err]);
    assert.doesNotMatch(text, /Open failed/);
    assert.match(text, /\/dev\/sdb/);
  });

  test('the Wilson lower bound is below the observed rate and 0 for no data', () => {
    assert.equal(wilsonLower(0, 0), 0);
    assert.ok(Math.abs(wilsonLower(90, 100) - 0.8256) < 0.001);
  });
});
