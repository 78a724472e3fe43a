/** `labwatch ask` as a person runs it: the real CLI, the real SDK against a scripted API, tools through the fake smartctl. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { sharedFixture } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const CLI = fileURLToPath(new URL('../../bin/labwatch.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'labwatch-ask-'));
let api: ScriptedAnthropic;

function labwatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir, FAKE_SMARTCTL_DIR: dir } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

before(async () => {
  const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
  scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
  writeFileSync(join(dir, 'scan.json'), JSON.stringify(scan));
  copyFileSync(join(SMART, 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json'), join(dir, 'sda.json'));
  writeFileSync(join(dir, 'sda.exit'), '216');
  writeFileSync(join(dir, 'key'), 'lw-fake-anthropic-key-0123456789\n');
  api = await new ScriptedAnthropic().start();
});
after(async () => {
  await api.stop();
});

const config = (withKey: boolean) => {
  const p = join(dir, withKey ? 'with-key.yaml' : 'no-key.yaml');
  writeFileSync(
    p,
    `redis:\n  url: "${TEST_REDIS_URL}"\n  prefix: lwtest-ask-${randomBytes(3).toString('hex')}\naudit:\n  file: ${join(dir, 'audit.jsonl')}\nwatch:\n  smart: { enabled: true, smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\n` +
      (withKey ? `anthropic:\n  api_key_file: ${join(dir, 'key')}\n  base_url: ${api.url}\n  max_turns: 3\n` : ''),
  );
  return p;
};

test('labwatch ask shows each tool call as it happens, then the answer', async () => {
  api.script({ toolUse: [{ name: 'smart_list_drives', input: {} }] }, { text: 'Drive MSK423Y20S3HBC is failing (1975 reallocated sectors): replace it this week.' });
  const r = await labwatch(['ask', 'what is wrong with my disks?', '--config', config(true)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^→ smart_list_drives \{\}$/m);
  assert.equal(r.stdout.trim(), 'Drive MSK423Y20S3HBC is failing (1975 reallocated sectors): replace it this week.');
  assert.equal(api.requests.length, 2);
  assert.equal((api.requests[0]!.body.messages[0]!.content as string), 'what is wrong with my disks?');
  assert.ok(!api.requests.some((q) => q.body.tools.some((t) => t.name === 'submit_report')));
  const result = (api.requests[1]!.body.messages[2]!.content as { content: string }[])[0]!.content;
  assert.match(result, /^<untrusted-data source="tool:smart_list_drives">/);
  const audited = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string });
  assert.deepEqual(audited.map((a) => [a.caller, a.tool]), [['cli', 'smart_list_drives']]);
});

test('the last turn allows no tools, so an answer always comes', async () => {
  const call = (d: string) => ({ toolUse: [{ name: 'smart_drive_health', input: { drive: d } }] });
  api.script(call('A1'), call('A2'), { text: 'No drive named A1 or A2 exists here.' });
  const r = await labwatch(['ask', 'how are drives A1 and A2?', '--config', config(true)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(api.requests.map((q) => q.body.tool_choice.type), ['auto', 'auto', 'none']);
  assert.match(r.stdout, /No drive named A1 or A2/);
});

test('without a key it says so in one line and exits 1; an API failure is named', async () => {
  const none = await labwatch(['ask', 'anything?', '--config', config(false)]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim(), 'labwatch ask needs a model: set anthropic.api_key_file or ANTHROPIC_API_KEY, or anthropic.base_url for a local one');
  api.script({ status: 529, type: 'overloaded_error' }, { status: 529, type: 'overloaded_error' }, { status: 529, type: 'overloaded_error' });
  const down = await labwatch(['ask', 'anything?', '--config', config(true)]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /labwatch ask: the Anthropic API answered 529 \(overloaded\) after retries/);
});

test('with a local model (base_url, no key) the last turn asks in words, and an answer comes even when tool_choice is ignored', async () => {
  const p = join(dir, 'local.yaml');
  writeFileSync(p, readFileSync(config(false), 'utf8') + `anthropic:\n  base_url: ${api.url}\n  model: qwen3:30b\n  max_turns: 2\n`);
  // The server ignores tool_choice "none": on the last turn the model calls a tool anyway, next to its answer.
  api.script({ toolUse: [{ name: 'smart_list_drives', input: {} }] }, { toolUse: [{ name: 'smart_drive_health', input: { drive: 'MSK423Y20S3HBC' } }], text: 'Drive MSK423Y20S3HBC is failing: replace it.' });
  const r = await labwatch(['ask', 'how are my disks?', '--config', p]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'Drive MSK423Y20S3HBC is failing: replace it.');
  assert.doesNotMatch(r.stderr, /smart_drive_health/, 'no tool runs after the last turn');
  assert.match(JSON.stringify(api.requests[1]!.body.messages.at(-1)), /This is the last turn: answer now in plain text/);
  assert.equal(api.requests[1]!.headers.authorization, 'Bearer labwatch-no-key');
});
