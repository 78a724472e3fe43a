/** The command line as a user runs it: the real bin, real Redis, loopback SMTP and ntfy. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './helpers/lab.ts';
import { FIRING_AM021 } from './helpers/payloads.ts';
import { TestNtfy } from './helpers/ntfy.ts';
import { TestSmtp } from './helpers/smtp.ts';
import { waitFor } from './helpers/wait.ts';
import { freePort } from './helpers/redis-server.ts';

const BIN = new URL('../bin/labwatch.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'labwatch-cli-'));
const prefix = `lwtest-cli-${randomBytes(3).toString('hex')}`;
let smtp: TestSmtp;
let ntfy: TestNtfy;

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function labwatch(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, out: () => stdout, err: () => stderr };
}

function config(password: string): string {
  return file(
    `labwatch-${password.length}.yaml`,
    `audit:\n  file: ${join(dir, 'audit.jsonl')}\nredis:\n  url: "${TEST_REDIS_URL}"\n  prefix: ${prefix}\nhttp:\n  listen: "127.0.0.1:0"\nnotify:\n  email:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    user: lab\n    password_file: ${file(`pw-${password.length}`, password)}\n    from: "labwatch <lab@example.org>"\n    to: [owner@example.org]\n  ntfy:\n    url: ${ntfy.url}\n    topic: homelab\n`,
  );
}

before(async () => {
  smtp = await new TestSmtp({ user: 'lab', password: 'right-password' }).start();
  ntfy = await new TestNtfy().start();
});
after(async () => {
  await smtp.stop();
  await ntfy.stop();
  const r = new Redis(TEST_REDIS_URL);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
});

test('labwatch version prints the version', async () => {
  const { code, stdout } = await labwatch(['version']).done;
  assert.equal(code, 0);
  assert.match(stdout, /^labwatch \d+\.\d+\.\d+ \(node v\d+/);
});

test('labwatch --help lists the commands', async () => {
  const { code, stdout } = await labwatch(['--help']).done;
  assert.equal(code, 0);
  for (const c of ['run', 'check', 'version']) assert.match(stdout, new RegExp(`^  ${c}\\b`, 'm'));
});

test('labwatch check passes against reachable Redis, SMTP and ntfy', async () => {
  const { code, stdout } = await labwatch(['check', '--config', config('right-password')]).done;
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^ok {4}Redis .*\(version \d/m);
  assert.match(stdout, /^ok {4}notify email$/m);
  assert.match(stdout, /^ok {4}notify ntfy$/m);
  assert.match(stdout, /all checks passed/);
});

test('labwatch check exits 1 with one line per problem: wrong SMTP login, unreachable Redis', async () => {
  const { code, stdout } = await labwatch(['check', '--config', config('wrong-pw-7731')], { LABWATCH_REDIS_URL: 'redis://127.0.0.1:1' }).done;
  assert.equal(code, 1, stdout);
  assert.match(stdout, /^FAIL {2}Redis redis:\/\/127\.0\.0\.1:1: .*is redis-server running/m);
  assert.match(stdout, /^FAIL {2}notify\/email: 127\.0\.0\.1:\d+ rejected the login for user "lab"/m);
  assert.match(stdout, /2 problems found/, stdout);
  assert.ok(!stdout.includes('wrong-pw-7731'), 'the password is never printed');
});

test('labwatch check exits 1 on a broken config and names file, line and key', async () => {
  const bad = file('bad.yaml', 'redis:\n  url: nope\n');
  const { code, stderr } = await labwatch(['check', '--config', bad]).done;
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`${bad}:2: redis\\.url: expected a redis://, rediss:// or redis\\+sentinel:// URL`));
});

test('labwatch run serves the webhook, delivers, and exits 0 on SIGTERM', async () => {
  const run = labwatch(['run', '--config', config('right-password')]);
  const line = await waitFor('the "running" log line', () => run.err().split('\n').find((l) => l.includes('labwatch is running')), 15_000);
  const listen = (JSON.parse(line) as { listen: string }).listen;
  const res = await fetch(`${listen}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
  assert.equal(res.status, 200);
  await waitFor('the email', () => smtp.messages.length > 0, 15_000);
  run.child.kill('SIGTERM');
  const { code, stderr } = await run.done;
  assert.equal(code, 0);
  assert.match(stderr, /"msg":"stopped"/);
  assert.ok(!stderr.includes('right-password'), 'the SMTP password never reaches the log');
});

test('labwatch run refuses to start with one line, not a stack trace, when a lab API\'s ca_file cannot be read', async () => {
  writeFileSync(join(dir, 'pve-token'), '3f9a1c2e-7b4d-4e8f-9a6b-0c1d2e3f4a5b\n');
  const file = join(dir, 'pve-ca.yaml');
  writeFileSync(file, `redis:\n  url: "${TEST_REDIS_URL}"\nwatch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\nproxmox:\n  url: https://pve1.lab:8006\n  token_id: "labwatch@pve!monitor"\n  token_secret_file: ${join(dir, 'pve-token')}\n  ca_file: ${join(dir, 'missing-ca.pem')}\n`);
  const { code, stderr } = await labwatch(['run', '--config', file]).done;
  assert.equal(code, 1);
  assert.ok(stderr.split('\n').includes(`labwatch: not starting: proxmox.ca_file ${join(dir, 'missing-ca.pem')} cannot be read (ENOENT); copy the CA certificate there (Proxmox: /etc/pve/pve-root-ca.pem on any node) or pin the certificate with tls_fingerprint`), stderr);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
});

test('labwatch run with no config says it uses defaults', async () => {
  const run = labwatch(['run'], { LABWATCH_REDIS_URL: TEST_REDIS_URL });
  await waitFor('the defaults warning', () => run.err().includes('no config file given'), 15_000);
  run.child.kill('SIGINT');
  // Port 9877 may be taken on a developer's machine; either way the process must end cleanly.
  const { code } = await run.done;
  assert.ok(code === 0 || code === 1);
});

test('labwatch notify test delivers a test message on every channel and says so', async () => {
  const before = smtp.messages.length;
  const { code, stdout } = await labwatch(['notify', 'test', '--config', config('right-password')]).done;
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^ok {4}email: delivered in \d+ ms \(<test-[0-9a-z]+@example\.org>\)$/m);
  assert.match(stdout, /^ok {4}ntfy: delivered in \d+ ms/m);
  assert.match(smtp.messages[before]!.parsed.subject ?? '', /^\[INFO\] .+: labwatch test message$/);
  assert.match(ntfy.published.at(-1)!.body, /If you can read this, labwatch can reach you/);
});

test('labwatch notify test names the exact failure: wrong login, rate limit, refused connection', async () => {
  ntfy.respondNext(429, { code: 42901, http: 429, error: 'limit reached: too many requests' });
  const bad = await labwatch(['notify', 'test', '--config', config('wrong-pw-7731')]).done;
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^FAIL {2}notify\/email: 127\.0\.0\.1:\d+ rejected the login for user "lab"/m);
  assert.match(bad.stdout, /^FAIL {2}notify\/ntfy: .* is rate-limiting us \(429: limit reached: too many requests\)/m);

  const port = await freePort(); // nothing listens there
  const closed = file('closed.yaml', `notify:\n  ntfy:\n    url: http://127.0.0.1:${port}\n    topic: homelab\n`);
  const refused = await labwatch(['notify', 'test', '--channel', 'ntfy', '--config', closed]).done;
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, new RegExp(`^FAIL  notify/ntfy: http://127\\.0\\.0\\.1:${port}/homelab: connection refused`, 'm'));

  const none = await labwatch(['notify', 'test', '--channel', 'email', '--config', closed]).done;
  assert.equal(none.code, 1);
  assert.match(none.stderr, /channel email is not configured/);
});

test('labwatch tools call runs a tool, and labwatch audit shows the call', async () => {
  const cfg = config('right-password');
  const call = await labwatch(['tools', 'call', 'host_overview', '--config', cfg]).done;
  assert.equal(call.code, 0, call.stderr);
  assert.equal((JSON.parse(call.stdout) as { status: string }).status, 'ok');
  const bad = await labwatch(['tools', 'call', 'incident_get', '{"id":"../../etc/passwd"}', '--config', cfg]).done;
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /invalid input for incident_get: id: expected an incident id/);
  const audit = await labwatch(['audit', '--config', cfg]).done;
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /cli {4}host_overview {8}ok .* \{\}$/m);
  assert.match(audit.stdout, /cli {4}incident_get {9}error .*"id":"\.\.\/\.\.\/etc\/passwd"/m);
  assert.equal(readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').length, 2, 'the file copy has both calls');
});
