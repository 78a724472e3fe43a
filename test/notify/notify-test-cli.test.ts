/** `labwatch notify test` for the new channels, as a user runs it: the real bin, loopback servers. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApprise, testGotify, testWebhook, type Receiver } from '../helpers/channels.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';

const BIN = new URL('../../bin/labwatch.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'labwatch-notify-cli-'));
const TOKEN = 'AWH0wZ5r0Mbac.r';
let gotify: Receiver;
let apprise: Receiver;
let hook: Receiver;

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function labwatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

let config: string;
const readConfig = () => readFileSync(config, 'utf8');
before(async () => {
  gotify = await testGotify(TOKEN).start();
  apprise = await testApprise({ labwatch: [{ url: 'tgram://bot/chat', tags: [] }] }).start();
  hook = await testWebhook().start();
  config = file(
    'labwatch.yaml',
    `notify:\n  gotify:\n    url: ${gotify.url}\n    token_file: ${file('gotify-token', TOKEN)}\n  apprise:\n    url: ${apprise.url}\n    key: not-saved\n  webhook:\n    url: ${hook.url}/hook\n`,
  );
});
after(async () => {
  for (const s of [gotify, apprise, hook]) await s.stop();
});

test('notify test sends through every configured channel and names each failure exactly', async () => {
  hook.respondNext(503, { message: 'Home Assistant is starting' });
  const { code, stdout } = await labwatch(['notify', 'test', '--config', config]);
  assert.equal(code, 1, stdout);
  assert.match(stdout, /^ok {4}gotify: delivered in \d+ ms \(1\)$/m);
  assert.match(stdout, /^FAIL {2}notify\/apprise: http:\/\/127\.0\.0\.1:\d+\/notify\/not-saved: nothing is saved under key "not-saved" in Apprise \(204\)/m);
  assert.match(stdout, /^FAIL {2}notify\/webhook: http:\/\/127\.0\.0\.1:\d+\/hook answered 503: Home Assistant is starting$/m);
  assert.match(gotify.accepted[0]!.json.title, /^\[INFO\] .+: labwatch test message$/);
  assert.match(gotify.accepted[0]!.json.message, /If you can read this, labwatch can reach you/);
});

test('notify test --channel picks one channel; an unknown name lists the channels labwatch knows', async () => {
  const before = hook.requests.length;
  const one = await labwatch(['notify', 'test', '--channel', 'webhook', '--config', config]);
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.match(one.stdout, /^ok {4}webhook: delivered in \d+ ms$/m);
  assert.doesNotMatch(one.stdout, /gotify|apprise/);
  assert.equal(hook.requests.length, before + 1);
  assert.equal(hook.requests.at(-1)!.json.title, 'labwatch test message');

  const unknown = await labwatch(['notify', 'test', '--channel', 'pushover', '--config', config]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /there is no channel pushover; labwatch knows email, ntfy, gotify, apprise, webhook/);
});

test('check probes Gotify and Apprise without sending, and says a webhook cannot be checked', async () => {
  const sent = [gotify, apprise, hook].map((r) => r.requests.filter((q) => q.method === 'POST').length);
  const withRedis = file('check.yaml', `redis:\n  url: "${TEST_REDIS_URL}"\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n` + readConfig());
  const { code, stdout } = await labwatch(['check', '--config', withRedis]);
  assert.equal(code, 1, stdout);
  assert.match(stdout, /^ok {4}notify gotify: Gotify at http:\/\/127\.0\.0\.1:\d+ is green; its app token is only checked by sending/m);
  assert.match(stdout, /^FAIL {2}notify\/apprise: http:\/\/127\.0\.0\.1:\d+\/json\/urls\/not-saved\?privacy=1: nothing is saved under key "not-saved" in Apprise \(204\)/m);
  assert.match(stdout, /^ok {4}notify webhook: webhook http:\/\/127\.0\.0\.1:\d+\/hook: not checked, as any request would act on it/m);
  assert.deepEqual([gotify, apprise, hook].map((r) => r.requests.filter((q) => q.method === 'POST').length), sent, 'nothing was sent');
});
