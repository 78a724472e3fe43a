/**
 * A lab that runs Redis Sentinel: labwatch is given the Sentinels and the master's name
 * (`redis+sentinel://host:26379/mymaster`), asks them where the master is, and works through it:
 * an alert in, an incident in the master, a mail out. A real redis-server and a real Sentinel
 * (redis-server --sentinel) on loopback, a real `labwatch run`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { secretValues } from '../../src/config/schema.ts';
import { sentinelOptions } from '../../src/util/redis.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLabwatch, type LabwatchProcess } from '../helpers/process.ts';
import { freePort, PrivateRedis } from '../helpers/redis-server.ts';
import { TestSmtp } from '../helpers/smtp.ts';
import { waitFor } from '../helpers/wait.ts';

let master: PrivateRedis;
let sentinel: ChildProcess;
let sentinelPort: number;
let smtp: TestSmtp;
let proc: LabwatchProcess | undefined;
let dir: string;

before(async () => {
  master = await new PrivateRedis().start();
  smtp = await new TestSmtp().start();
  sentinelPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'labwatch-sentinel-'));
  // Sentinel rewrites its config file as it learns, so it must be a writable file of its own.
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`, ''].join('\n'));
  sentinel = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
  await waitFor('the Sentinel to know the master', async () => {
    const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'mymaster').catch(() => null)) as string[] | null;
    return addr?.[1] === String(master.port) || undefined;
  }, 15_000);
  probe.disconnect();
});

after(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  sentinel?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  await smtp.stop();
  await master.stop();
});

test('the connection form: Sentinels, master name, the master\'s password and database', () => {
  const options = (url: string) => {
    return sentinelOptions(url);
  };
  assert.deepEqual(options('redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380,[fd00::3]:26379/lab-master/2'), {
    sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: 'fd00::3', port: 26379 }],
    name: 'lab-master',
    password: 's@cret',
    db: 2,
  });
  assert.deepEqual(options('redis+sentinel://sentinel.lan,[fd00::4]/mymaster'), { sentinels: [{ host: 'sentinel.lan', port: 26379 }, { host: 'fd00::4', port: 26379 }], name: 'mymaster' });
  assert.equal(sentinelOptions('redis://127.0.0.1:6379'), null);
  // what cannot be read is refused with the form to use, not sent to a host named "redis+sentinel"
  assert.throws(() => sentinelOptions('redis+sentinel://10.0.0.1:26379'), /expected redis\+sentinel:\/\/\[\[user\]:password@\]host/);
  assert.throws(() => sentinelOptions('redis+sentinel://:p%zz@10.0.0.1/m'), /the password is not valid percent-encoding/);
  // the password is a secret like redis://'s: scrubbed as written and as sent
  const secrets = secretValues({ secrets: {}, redis: { url: 'redis+sentinel://:s%40cret@10.0.0.1:26379/lab-master' } });
  assert.ok(secrets.includes('s@cret') && secrets.includes('s%40cret'), secrets.join(','));
});

test('no Sentinel answers at start: labwatch still starts, says so, and webhooks get 503 (Alertmanager retries)', async () => {
  const down = await freePort();
  const p = await startLabwatch(`
redis:
  url: "redis+sentinel://127.0.0.1:${down}/mymaster"
  prefix: lwtest-sentinel-down
http:
  listen: "127.0.0.1:0"
watch: { smart: { enabled: false }, zfs: { enabled: false }, host: { enabled: false } }
`);
  try {
    assert.ok(p.lines().some((l) => l.msg === 'cannot reach Redis at start-up; retrying in the background'), p.stderr());
    const res = await fetch(`${p.url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
    assert.equal(res.status, 503);
    assert.equal((await fetch(`${p.url}/readyz`)).status, 503);
  } finally {
    p.child.kill('SIGKILL');
    await p.exited;
  }
});

test('labwatch reaches the master through the Sentinel: an alert becomes an incident and a mail', async () => {
  proc = await startLabwatch(`
redis:
  url: "redis+sentinel://127.0.0.1:${sentinelPort}/mymaster"
  prefix: lwtest-sentinel
http:
  listen: "127.0.0.1:0"
notify:
  email: { host: 127.0.0.1, port: ${smtp.port}, from: "labwatch <lab@example.org>", to: [owner@example.org] }
  group_wait: 0s
watch: { smart: { enabled: false }, zfs: { enabled: false }, host: { enabled: false } }
`);
  const res = await fetch(`${proc.url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
  assert.equal(res.status, 200, await res.text());
  const mail = await waitFor('the report mail', () => smtp.messages[0], 20_000);
  assert.match(mail.parsed.subject ?? '', /^\[CRITICAL\] ni3: /);
  const direct = new Redis(master.url);
  const firing = await direct.scard('lwtest-sentinel:incidents:firing');
  direct.disconnect();
  assert.equal(firing, 1, 'the incident is in the master the Sentinel named');
  const ready = await fetch(`${proc.url}/readyz`);
  assert.equal(ready.status, 200);
});
