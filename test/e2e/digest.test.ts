/** The daily digest, end to end: real Redis, SMTP and ntfy receiver; the clock is the test's. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { driveObservation } from '../../src/connectors/smart/collect.ts';
import { parseSmartctl } from '../../src/connectors/smart/parse.ts';
import { parseZpoolList, parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import { poolObservations } from '../../src/connectors/zfs/collect.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { FIRING_AM021, MIXED_AM09, resolvedOf } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';
import { readFixture } from '../helpers/fixtures.ts';

const fixture = (p: string) => readFixture(...p.split('/'));

describe('the digest', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('lists what was opened, is still open and resolved, and every drive and pool, once per period across two workers and a restart', async () => {
    // A warning (ntfy now, email in the digest) and a critical that fires and resolves.
    assert.equal((await lab.post(MIXED_AM09)).status, 200);
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('the critical email', () => lab.smtp.messages[0]);
    assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
    await waitFor('the resolution email', () => lab.smtp.messages[1]);
    // What the collectors last saw (real smartctl and zpool documents).
    const now = new Date();
    const drive = driveObservation(parseSmartctl(fixture('smartctl/sata-ssd-healthy-samsung-860evo-xall.json'), 0, { device: '/dev/sda', type: 'sat' }, 3), 'nas', now.toISOString());
    const [pool] = parseZpoolStatusText(fixture('zpool/status-scrub-in-progress.txt'));
    const usage = parseZpoolList(fixture('zpool/list-p-two-pools-degraded.txt'))[0];
    await lab.daemon.rules.observe([drive, ...poolObservations({ health: pool!, ...(usage ? { usage } : {}) }, 'nas', now)], { now });
    await lab.drained();
    const before = lab.smtp.messages.length;

    // Two daemons sharing one Redis queue the same period at the same time.
    const second = new Daemon(lab.config, createLogger({ level: 'silent' }));
    await second.start();
    const end = new Date(Date.now() + 60_000);
    await Promise.all([lab.daemon.queueDigest(end), second.queueDigest(end)]);
    const digest = await waitFor('the digest email', () => lab.smtp.messages[before]);
    await lab.drained();
    await second.stop();

    assert.equal(lab.smtp.messages.length, before + 1, 'exactly one digest for the period');
    assert.match(digest.parsed.subject ?? '', /^\[DIGEST\] \d{4}-\d{2}-\d{2}: 2 opened, 1 resolved$/);
    const text = digest.parsed.text ?? '';
    assert.match(text, /^Opened\n(?: {2}• .*\n)* {2}• \[WARNING\] ServerStop \(since 2017-10-21 17:50:17 UTC\)$/m);
    assert.match(text, /^Opened\n(?: {2}• .*\n)* {2}• \[CRITICAL\] ni3: This is a demo \(since 2021-01-07 08:38:00 UTC\)$/m);
    assert.match(text, /^Resolved\n {2}• \[CRITICAL\] ni3: This is a demo \(resolved /m);
    assert.match(text, /^ {2}drives\n.*disk:S3YZNB0KB00864E: Samsung SSD 860 EVO 500GB \/dev\/sda · \d+ °C · 19 % worn · 0 reallocated/m);
    assert.match(text, /^ {2}pools\n.*pool:\S+: ONLINE/m);
    assert.match(String(digest.parsed.html), /Health overview/);
    const push = lab.ntfy.published.at(-1)!;
    assert.match(String(push.headers.title), /^\[DIGEST\]/);
    assert.equal(push.headers.priority, '2');

    // A restart, then the same period again: nothing more.
    const third = new Daemon(lab.config, createLogger({ level: 'silent' }));
    await third.start();
    await third.queueDigest(end);
    await lab.drained();
    await third.stop();
    assert.equal(lab.smtp.messages.length, before + 1, 'a restart does not resend the period');
  });
});

describe('an empty period', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('sends nothing', async () => {
    await lab.daemon.queueDigest(new Date());
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 0);
    assert.equal(lab.ntfy.published.length, 0);
    assert.ok(lab.logs.some((l) => l.includes('nothing happened in this period: no digest sent')));
  });
});
