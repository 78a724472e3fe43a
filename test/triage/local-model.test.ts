/**
 * A local model behind anthropic.base_url (Ollama, llama.cpp, vLLM, LiteLLM): no key, tool_choice
 * ignored, no cache usage, the report often written as JSON text. The scripted API plays such a
 * back-end; the real SDK talks to it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { AiTriager } from '../../src/triage/agent.ts';
import { anthropicConfig } from '../../src/triage/config.ts';
import { agentSettings } from '../../src/triage/settings.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { sharedFixture } from '../helpers/fixtures.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');

const REPORT = {
  summary: 'Drive MSK423Y20S3HBC is failing: SMART says FAILING and 1975 sectors were reallocated.',
  facts: [{ text: 'SMART overall health is FAILED with 1975 reallocated sectors', tool_call: 'smart_drive_health {"drive":"MSK423Y20S3HBC"}' }],
  causes: [{ text: 'The disk surface is wearing out', confidence: 'high' }],
  actions: [{ text: 'Replace drive MSK423Y20S3HBC within 7 days', urgency: 'soon' }],
  not_checked: ['the ZFS pool this drive belongs to'],
};
const LAST_TURN_WORDS = /This is the last turn: call submit_report now .* answer with the report alone as one JSON object/;

let api: ScriptedAnthropic;
before(async () => {
  api = await new ScriptedAnthropic({ local: true }).start();
});
after(async () => {
  await api.stop();
});

describe('settings', () => {
  const settings = (anthropic: Record<string, unknown>, key?: string) => agentSettings({ anthropic: anthropicConfig.parse(anthropic), secrets: key ? { anthropicApiKey: key } : {} });
  test('a base URL alone turns AI triage on, as a local model, with a placeholder key', () => {
    const s = settings({ base_url: 'http://127.0.0.1:11434', model: 'qwen3:14b' })!;
    assert.ok(s, 'AI triage is on');
    assert.equal(s.local, true);
    assert.equal(s.apiKey, 'labwatch-no-key');
    assert.equal(settings({}), null, 'neither key nor base URL: off');
  });
  test('a keyed base URL (a proxy in front of a paid API) keeps its price unless local: true says otherwise', () => {
    assert.equal(settings({ base_url: 'http://127.0.0.1:4000' }, 'sk-proxy')!.local, false);
    assert.equal(settings({ base_url: 'http://127.0.0.1:4000', local: true }, 'sk-proxy')!.local, true);
    assert.equal(settings({}, 'sk-ant')!.local, false);
  });
});

describe('a report written as JSON text', () => {
  const incident = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021))), '2026-11-24T10:00:00.000Z')!.incident;
  const triager = () => {
    const s = agentSettings({ anthropic: anthropicConfig.parse({ base_url: api.url, model: 'qwen3:14b', max_turns: 2, budget: '5s' }), secrets: {} })!;
    return new AiTriager(s, [], { record: async () => {} }, new Metrics(), createLogger({ level: 'silent' }), []);
  };

  test('fenced as ```json is accepted when it validates, at no cost', async () => {
    api.script({ json: REPORT, fenced: true });
    const r = await triager().investigate(incident);
    assert.equal(r.producer, 'ai');
    assert.equal(r.summary, REPORT.summary);
    assert.deepEqual(r.actions, REPORT.actions);
    assert.deepEqual(r.triage, { model: 'qwen3:14b', tokens: { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 }, costUsd: 0, local: true });
    assert.match(r.notes.at(-1)!, /^Investigated by qwen3:14b, a local model: 1 turns, 0 tool calls; about 1000 tokens in, 100 out \(as the server counts them\); local, no cost\.$/);
  });

  test('on the last turn the report is asked for in words too, and a bare JSON answer is taken', async () => {
    api.script({ text: 'I will look at the drive first.' }, { json: REPORT });
    const r = await triager().investigate(incident);
    assert.equal(r.producer, 'ai');
    assert.equal(r.summary, REPORT.summary);
    const [first, last] = api.requests;
    assert.doesNotMatch(JSON.stringify(first!.body.messages), /This is the last turn/);
    const words = (last!.body.messages.at(-1)!.content as { type: string; text: string }[]).at(-1)!;
    assert.match(words.text, LAST_TURN_WORDS);
    // Cache markers are still sent: servers without caching ignore them.
    assert.deepEqual(last!.body.system[0]!.cache_control, { type: 'ephemeral' });
  });

  test('a text answer that does not validate sends the deterministic report, saying why', async () => {
    api.script({ text: 'Let me think about it.' }, { json: { summary: 'disk bad', facts: 'many' }, fenced: true });
    const r = await triager().investigate(incident);
    assert.equal(r.producer, 'deterministic');
    assert.match(r.notes.join('\n'), /AI triage failed \(the model's last answer was not a valid report \(summary: .*\)\)/);
    assert.match(r.summary, /This is a demo/);
    assert.deepEqual(r.triage, { model: 'qwen3:14b', tokens: { input: 2000, output: 200, cacheRead: 0, cacheWrite: 0 }, costUsd: 0, local: true });
  });

  test('a local server that is down is named in the fallback, not "the Anthropic API"', async () => {
    const down = await new ScriptedAnthropic({ local: true }).start();
    await down.stop();
    const s = agentSettings({ anthropic: anthropicConfig.parse({ base_url: down.url, model: 'qwen3:14b', budget: '5s' }), secrets: {} })!;
    const r = await new AiTriager(s, [], { record: async () => {} }, new Metrics(), createLogger({ level: 'silent' }), []).investigate(incident);
    assert.equal(r.producer, 'deterministic');
    assert.match(r.notes.join('\n'), new RegExp(`AI triage failed \\(the local model server ${new URL(down.url).host.replace(/\./g, '\\.')} could not be reached\\)`));
  });

  test('prose on the last turn sends the deterministic report', async () => {
    api.script({ text: 'Checking.' }, { text: 'The drive looks bad, replace it.' });
    const r = await triager().investigate(incident);
    assert.equal(r.producer, 'deterministic');
    assert.match(r.notes.join('\n'), /AI triage failed \(the model answered the last turn in words, without a report\)/);
  });
});

describe('the daemon with a local model and no key', () => {
  let lab: Lab;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labwatch-local-'));
    const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
    writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
    copyFileSync(join(SMART, 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json'), join(dir, 'sda.json'));
    writeFileSync(join(dir, 'sda.exit'), '216');
    process.env.FAKE_SMARTCTL_DIR = dir;
    lab = await startLab({
      anthropic: { base_url: api.url, model: 'qwen3:14b', max_turns: 3, max_tool_calls: 4, budget: '5s' },
      anthropicKey: false,
      watchYaml: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\n  host: { enabled: false }`,
    });
  });
  after(async () => {
    await lab.stop();
  });
  beforeEach(() => {
    lab.smtp.messages.length = 0;
  });

  test("the model's report, given as JSON text on the last turn, reaches email as local with no dollar cost", async () => {
    api.script({ toolUse: [{ name: 'smart_list_drives', input: {} }] }, { toolUse: [{ name: 'smart_drive_health', input: { drive: 'MSK423Y20S3HBC' } }] }, { json: REPORT, fenced: true });
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    const mail = await waitFor('the local model report', () => lab.smtp.messages[0], 15_000);
    const text = mail.parsed.text ?? '';
    assert.match(text, /Drive MSK423Y20S3HBC is failing/);
    assert.match(text, /1\. Replace drive MSK423Y20S3HBC within 7 days \[soon\]/);
    assert.match(text, /investigated by qwen3:14b \(local\)/);
    assert.match(text, /Investigated by qwen3:14b, a local model: 3 turns, 2 tool calls; about 3000 tokens in, 300 out \(as the server counts them\); local, no cost\./);
    assert.doesNotMatch(text, /\$\d/, 'no made-up price');
    assert.doesNotMatch(text, /AI triage (is off|failed)/);

    assert.equal(api.requests.length, 3);
    // The tools were called for real, through the fake smartctl.
    const health = (api.requests[2]!.body.messages[4]!.content as { type: string; content: string }[])[0]!;
    assert.match(health.content, /^<untrusted-data source="tool:smart_drive_health">[\s\S]*MSK423Y20S3HBC/);
    assert.match(JSON.stringify(api.requests[2]!.body.messages.at(-1)), LAST_TURN_WORDS);
    // No key configured: the SDK's placeholder goes out, never a secret.
    for (const r of api.requests) assert.equal(r.headers.authorization, 'Bearer labwatch-no-key');
    for (const secret of Object.values(SECRETS)) for (const r of api.requests) assert.ok(!r.raw.includes(secret), 'a secret reached the model server');
    // The cost kept per incident and in metrics is 0.
    const costKey = (await lab.keys('cost:*'))[0]!;
    assert.equal((await lab.redis.hgetall(`${lab.prefix}:${costKey}`)).usd, '0');
    assert.match(await (await fetch(`${lab.url}/metrics`)).text(), /^labwatch_triage_cost_usd_total 0$/m);
    // And incident_get, what Claude Desktop and `labwatch tools call` show, says local rather than a price.
    const get = (await lab.daemon.hub.tools()).find((t) => t.name === 'incident_get')!;
    const shown = await get.run({ id: costKey.slice('cost:'.length) }, AbortSignal.timeout(5000));
    assert.match(shown.text, /triage so far: 1 investigation\(s\), by a local model, no cost/);
    assert.doesNotMatch(shown.text, /\$0/);
  });
});
