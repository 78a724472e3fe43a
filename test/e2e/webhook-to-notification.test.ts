/**
 * The first whole path, end to end on loopback: Alertmanager's real webhook body → labwatch →
 * Redis → BullMQ → a real SMTP server and an ntfy receiver.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021, MIXED_AM09, resolvedOf } from '../helpers/payloads.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

describe('an Alertmanager alert reaches the owner once, by email and ntfy', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('a firing alert sends exactly one email and one ntfy message carrying its summary', async () => {
    const res = await lab.post(FIRING_AM021);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.anomalies, 1);

    const mail = await waitFor('the first email', () => lab.smtp.messages[0]);
    const push = await waitFor('the first ntfy message', () => lab.ntfy.published[0]);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 1);
    assert.equal(lab.ntfy.published.length, 1);

    assert.equal(mail.parsed.subject, '[CRITICAL] ni3: This is a demo');
    assert.deepEqual(mail.to, ['owner@example.org']);
    assert.equal(mail.user, 'lab@example.org', 'the mail was sent after logging in with the configured user');
    assert.match(mail.parsed.text ?? '', /This is a demo/);
    assert.match(mail.parsed.text ?? '', /DemoAlert on ni3/);
    assert.match(mail.parsed.text ?? '', /firing since 2021-01-07 08:38:00 UTC/);
    assert.match(String(mail.parsed.html), /This is a demo/);
    assert.match(mail.raw, /multipart\/alternative/);

    assert.equal(push.path, '/homelab');
    assert.equal(push.headers.authorization, `Bearer ${SECRETS.ntfyToken}`);
    assert.equal(push.headers.title, '[CRITICAL] ni3: This is a demo');
    assert.equal(push.headers.priority, '5');
    assert.match(String(push.headers.tags), /rotating_light/);
    assert.match(push.body, /This is a demo/);
    assert.equal(push.headers.click, 'http://n3:9090/graph?g0.expr=sum%28prometheus_build_info%29+%3C+3&g0.tab=1');
  });

  test('the same payload delivered three more times sends nothing more', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 1);
    assert.equal(lab.ntfy.published.length, 1);
  });

  test('the resolution sends one short notice, threaded under the first mail, at low ntfy priority', async () => {
    const res = await lab.post(resolvedOf(FIRING_AM021));
    assert.equal(res.status, 200);
    const notice = await waitFor('the resolution email', () => lab.smtp.messages[1]);
    const push = await waitFor('the resolution ntfy message', () => lab.ntfy.published[1]);
    // A repeated resolution (Alertmanager re-sends until it hears 2xx) changes nothing.
    assert.equal((await lab.post(resolvedOf(FIRING_AM021))).status, 200);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 2);
    assert.equal(lab.ntfy.published.length, 2);

    const first = lab.smtp.messages[0]!.parsed;
    assert.ok(first.messageId, 'the first mail has a Message-ID');
    assert.equal(notice.parsed.subject, '[RESOLVED] ni3: This is a demo');
    assert.equal(notice.parsed.inReplyTo, first.messageId);
    const refs = [notice.parsed.references ?? []].flat();
    assert.deepEqual(refs, [first.messageId]);
    assert.match(notice.parsed.text ?? '', /Resolved: This is a demo/);
    assert.equal(push.headers.priority, '2');
    assert.match(String(push.headers.tags), /white_check_mark/);
  });

  test('a later firing of the same alert opens a new incident and a new thread', async () => {
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    const mail = await waitFor('the new incident email', () => lab.smtp.messages[2]);
    await lab.drained();
    assert.equal(mail.parsed.subject, '[CRITICAL] ni3: This is a demo');
    assert.notEqual(mail.parsed.messageId, lab.smtp.messages[0]!.parsed.messageId);
    assert.equal(mail.parsed.inReplyTo, undefined);
  });

  test('a warning group (Alertmanager 0.9: one firing, one resolved, no fingerprints) is one incident: ntfy now, email in the digest', async () => {
    const mails = lab.smtp.messages.length;
    const pushes = lab.ntfy.published.length;
    const res = await lab.post(MIXED_AM09);
    assert.equal(res.status, 200);
    assert.equal((res.json.incidents as string[]).length, 1);
    const push = await waitFor('the ntfy message for the mixed group', () => lab.ntfy.published[pushes]);
    await lab.drained();
    assert.equal(push.headers.title, '[WARNING] ServerStop');
    assert.match(push.body, /ServerStop/);
    assert.equal(lab.smtp.messages.length, mails, 'warnings are emailed in the digest, not at once');
  });

  test('no configured secret appears in any log line, and log lines carry the incident', () => {
    const all = lab.logs.join('');
    for (const secret of Object.values(SECRETS)) assert.ok(!all.includes(secret), `secret leaked into the log`);
    const delivered = lab.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'delivered');
    assert.ok(delivered.length >= 6);
    for (const l of delivered) assert.match(String(l.incident), /^inc-[0-9a-f]{10}-[0-9a-z]+$/);
  });

  test('/metrics counts webhook requests, incidents, queue jobs and notifications', async () => {
    const text = await (await fetch(`${lab.url}/metrics`)).text();
    assert.match(text, /labwatch_webhook_requests_total\{source="alertmanager",outcome="accepted"\} \d+/);
    assert.match(text, /labwatch_notifications_total\{channel="email",outcome="sent"\} 3/);
    assert.match(text, /labwatch_notifications_total\{channel="ntfy",outcome="sent"\} 4/);
    assert.match(text, /labwatch_notifications_total\{channel="email",outcome="digest"\} 1/);
    assert.match(text, /labwatch_incidents\{state="firing"\} 2/);
    assert.match(text, /labwatch_incidents\{state="resolved"\} 1/);
    assert.match(text, /labwatch_queue_jobs\{queue="notify",state="completed"\} \d+/);
    assert.match(text, /labwatch_process_cpu_seconds_total/);
    const ready = await fetch(`${lab.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await fetch(`${lab.url}/healthz`)).status, 200);
  });
});

describe('bad webhooks get a clear answer and store nothing', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  const cases: [string, string, RegExp][] = [
    ['malformed JSON', '{"version":"4","alerts":[', /not valid JSON/],
    ['a wrong version', FIRING_AM021.replace('"version":"4"', '"version":"3"'), /version: expected "4".*got "3"/],
    ['no alerts field', JSON.stringify({ version: '4', status: 'firing', groupKey: 'x' }), /alerts: missing; expected array/],
    ['an alert without labels', JSON.stringify({ version: '4', alerts: [{ status: 'firing', startsAt: '2021-01-07T08:38:00Z' }] }), /alerts\[0\]\.labels/],
    ['an unknown alert status', FIRING_AM021.replace('"status":"firing","labels"', '"status":"burning","labels"'), /alerts\[0\]\.status/],
    ['a JSON array', '[]', /expected a JSON object/],
  ];
  for (const [what, body, message] of cases) {
    test(`${what} → 400 naming the problem`, async () => {
      const res = await lab.post(body);
      assert.equal(res.status, 400);
      assert.match(String(res.json.error), message);
    });
  }

  test('a wrong or missing bearer token → 401', async () => {
    assert.equal((await lab.post(FIRING_AM021, { Authorization: 'Bearer not-the-token' })).status, 401);
    const res = await fetch(`${lab.url}/webhook/alertmanager`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: FIRING_AM021 });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="labwatch"');
  });

  test('a body over the limit → 413, and a non-JSON content type → 415', async () => {
    const huge = JSON.stringify({ version: '4', alerts: [], pad: 'x'.repeat(5 * 1024 * 1024) });
    assert.equal((await lab.post(huge)).status, 413);
    assert.equal((await lab.post(FIRING_AM021, { 'Content-Type': 'text/plain' })).status, 415);
  });

  test('after all of them, nothing was stored and nothing was sent', async () => {
    await lab.drained();
    assert.deepEqual(await lab.keys('group:*'), []);
    assert.deepEqual(await lab.keys('incident:*'), []);
    assert.equal(lab.smtp.messages.length, 0);
    assert.equal(lab.ntfy.requests.length, 0);
    const text = await (await fetch(`${lab.url}/metrics`)).text();
    assert.match(text, /labwatch_webhook_requests_total\{source="alertmanager",outcome="invalid"\} 8/);
    assert.match(text, /labwatch_webhook_requests_total\{source="alertmanager",outcome="unauthorized"\} 2/);
  });
});

describe('a mail server that refuses at first', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('is retried with backoff and the report is delivered exactly once when it comes back', async () => {
    lab.smtp.refuseNext(3);
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('the email after the refusals', () => lab.smtp.messages[0], 20_000);
    await lab.drained();
    assert.equal(lab.smtp.refused, 3);
    assert.equal(lab.smtp.messages.length, 1);
    assert.equal(lab.ntfy.published.length, 1, 'ntfy was not held back nor repeated by the email retries');
    const retries = lab.logs.filter((l) => l.includes('delivery failed; will retry') && l.includes('"channel":"email"'));
    assert.equal(retries.length, 3);
    assert.match(retries[0]!, /451 Try again later/);
  });
});

describe('a mail server that stays down', () => {
  let lab: Lab;
  before(async () => {
    // Two attempts only: without the circuit, the report would be given up after two refusals.
    lab = await startLab({ queue: { attempts: 2, backoff: '50ms' }, circuit: { failures: 2, cooldown: '200ms', max_cooldown: '400ms' } });
  });
  after(async () => {
    await lab.stop();
  });

  test('is paused instead of hammered, and the report still arrives once it returns: nothing lost', async () => {
    lab.smtp.refuseNext(1_000_000);
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('ntfy, which is unaffected', () => lab.ntfy.published[0]);
    await sleep(1500);
    const refusedWhileDown = lab.smtp.refused;
    // 1.5 s down: 2 quick tries, then at most one try per cooldown (200, 400, 400, … ms).
    assert.ok(refusedWhileDown >= 3 && refusedWhileDown <= 8, `tried ${refusedWhileDown} times in 1.5 s`);
    assert.ok(lab.logs.some((l) => l.includes('channel keeps failing: pausing it')));
    lab.smtp.refuseNext(0);
    await waitFor('the email after the outage', () => lab.smtp.messages[0], 10_000);
    await lab.drained();
    assert.equal(lab.smtp.messages.length, 1);
    const text = await (await fetch(`${lab.url}/metrics`)).text();
    assert.doesNotMatch(text, /labwatch_notifications_total\{channel="email",outcome="gave_up"\} [1-9]/);
  });
});

describe('ntfy details and the incident page', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ notifyExtra: { public_url: 'http://labwatch.lan:9877' } });
  });
  after(async () => {
    await lab.stop();
  });

  test('ntfy gets markdown and actions; 429s are retried and the message arrives once; the linked page shows the report', async () => {
    lab.ntfy.respondNext(429, { code: 42901, http: 429, error: 'limit reached: too many requests' });
    lab.ntfy.respondNext(429, { code: 42901, http: 429, error: 'limit reached: too many requests' });
    const res = await lab.post(FIRING_AM021);
    const id = (res.json.incidents as string[])[0]!;
    const push = await waitFor('the push after two 429s', () => lab.ntfy.published[0]);
    await lab.drained();
    assert.equal(lab.ntfy.published.length, 1);
    assert.equal(lab.ntfy.requests.length, 3, 'two refused, one accepted');
    assert.equal(push.headers.markdown, 'yes');
    // ntfy shows three buttons at most: the report, then Acknowledge and Snooze (signed links); the alert's own link moves to the body.
    assert.match(String(push.headers.actions), new RegExp(`^view, Open report, http://labwatch\\.lan:9877/incidents/${id}; http, Acknowledge, http://labwatch\\.lan:9877/api/act/[\\w-]+\\.[\\w-]+, method=POST, clear=true; http, Snooze 24 h, http://labwatch\\.lan:9877/api/act/[\\w-]+\\.[\\w-]+, method=POST, clear=true$`));
    assert.match(push.body, /Prometheus expression: <http:\/\/n3:9090\/graph\?/);
    assert.equal(push.headers.click, `http://labwatch.lan:9877/incidents/${id}`);

    const page = await fetch(`${lab.url}/incidents/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /This is a demo/);
    assert.equal((await fetch(`${lab.url}/incidents/inc-0000000000-zzzz`)).status, 404);
    assert.equal((await fetch(`${lab.url}/incidents/..%2F..%2Fetc`)).status, 400);
  });
});

describe('a wrong SMTP password', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ smtpPassword: 'not-the-password-5521' });
  });
  after(async () => {
    await lab.stop();
  });

  test('fails once with a message that says what to fix, and is not retried', async () => {
    assert.equal((await lab.post(FIRING_AM021)).status, 200);
    await waitFor('ntfy, which is unaffected', () => lab.ntfy.published[0]);
    await lab.drained();
    assert.equal(lab.smtp.authFailures, 1, 'one login attempt, no retry storm');
    assert.equal(lab.smtp.messages.length, 0);
    const line = lab.logs.find((l) => l.includes('job failed for good'))!;
    assert.match(line, /rejected the login for user \\"lab@example\.org\\".*check notify\.email\.user and the password file/);
    assert.ok(!lab.logs.join('').includes('not-the-password-5521'), 'the password never reaches the log');
    const text = await (await fetch(`${lab.url}/metrics`)).text();
    assert.match(text, /labwatch_notifications_total\{channel="email",outcome="gave_up"\} 1/);
  });
});
