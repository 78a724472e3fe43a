/**
 * A configured secret that turns up inside an alert's own text (an SMTP password in a summary, a
 * token in a label, a Redis URL with its password in a description) never leaves labwatch: not
 * by email, not by ntfy, not in the log notifier's output, not on the unauthenticated
 * /incidents/<id> page, not in the report stored in Redis, not in the digest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, TEST_REDIS_URL, startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';
import { escapeHtml } from '../../src/notify/render.ts';

/** The lab's Redis URL with a password in it (Redis without one accepts it; ioredis only warns). */
function withPassword(url: string): { url: string; password: string } {
  const u = new URL(url);
  if (u.password) return { url, password: decodeURIComponent(u.password) };
  u.password = 'lab-redis-pw-4242';
  return { url: u.toString(), password: 'lab-redis-pw-4242' };
}
const REDIS = withPassword(TEST_REDIS_URL);

/** An Alertmanager alert whose text carries every kind of secret (`a` in the summary, `b` in a label). */
function leakyAlert(name: string, a1 = SECRETS.smtpPassword, b = SECRETS.ntfyToken): string {
  const p = JSON.parse(FIRING_AM021) as {
    alerts: { labels: Record<string, string>; annotations: Record<string, string>; fingerprint?: string }[];
    commonLabels: Record<string, string>;
    commonAnnotations: Record<string, string>;
    groupLabels: Record<string, string>;
    groupKey: string;
  };
  const a = p.alerts[0]!;
  a.labels.alertname = name;
  a.labels.token = b;
  a.annotations.summary = `mail relay rejects login with password ${a1}`;
  a.annotations.description =
    `ntfy answered 401 to token ${b}; the queue is redis://:${REDIS.password}@db.lan:6379/0 ` +
    `(password ${REDIS.password}), the relay smtp://lab:${a1}@mail.lan:587`;
  a.annotations.runbook_url = `https://admin:wiki-pw-9911@wiki.lan/runbooks/smtp`;
  delete a.fingerprint;
  p.commonLabels = { ...a.labels };
  p.commonAnnotations = { ...a.annotations };
  p.groupLabels = { alertname: name };
  p.groupKey = `{}:{alertname="${name}"}`;
  return JSON.stringify(p);
}

/** Every form a secret could take in what we check: as is, HTML-escaped, and the URL password. */
const FORBIDDEN = [SECRETS.smtpPassword, SECRETS.ntfyToken, REDIS.password, 'wiki-pw-9911'].flatMap((s) => [s, escapeHtml(s)]);

function assertClean(what: string, text: string, forbidden = FORBIDDEN): void {
  for (const s of forbidden) assert.ok(!text.includes(s), `${what} contains the secret ${JSON.stringify(s)}:\n${text.slice(0, 3000)}`);
}

/** RFC 2047 words (how ntfy headers carry non-ASCII) decoded, so a secret cannot hide in base64. */
function decodeWords(v: string): string {
  return v.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

describe('configured secrets inside alert text are scrubbed from everything labwatch renders', () => {
  let lab: Lab;
  let incidentId = '';
  before(async () => {
    lab = await startLab({ redisUrl: REDIS.url });
    const res = await lab.post(leakyAlert('SmtpRelayLogin'));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    incidentId = (res.json.incidents as string[])[0]!;
    await waitFor('the email', () => lab.smtp.messages[0], 30_000);
    await waitFor('the ntfy message', () => lab.ntfy.published[0], 30_000);
    await lab.drained(30_000);
  });
  after(async () => {
    await lab?.stop();
  });

  test('the email subject, text and HTML show the alert with every secret replaced', () => {
    const mail = lab.smtp.messages[0]!;
    assertClean('the email subject', mail.parsed.subject ?? '');
    assertClean('the email text', mail.parsed.text ?? '');
    assertClean('the email HTML', String(mail.parsed.html));
    assert.match(mail.parsed.subject ?? '', /mail relay rejects login with password \[REDACTED\]/);
    assert.match(mail.parsed.text ?? '', /redis:\/\/:\[REDACTED\]@db\.lan:6379\/0 \(password \[REDACTED\]\)/, "the Redis URL keeps its shape; labwatch's own Redis password is a secret even bare");
    assert.match(mail.parsed.text ?? '', /smtp:\/\/lab:\[REDACTED\]@mail\.lan:587/);
    assert.match(mail.parsed.text ?? '', /https:\/\/admin:\[REDACTED\]@wiki\.lan\/runbooks\/smtp/, 'a password in a runbook URL is scrubbed too');
  });

  test('the ntfy title, tags, click, actions and body carry no secret (only the Authorization header holds the token)', () => {
    const push = lab.ntfy.published[0]!;
    const { authorization, ...rest } = push.headers;
    assert.equal(authorization, `Bearer ${SECRETS.ntfyToken}`);
    assertClean('the ntfy headers', decodeWords(JSON.stringify(rest)));
    assertClean('the ntfy body', push.body);
    assert.match(decodeWords(String(push.headers.title)), /\[REDACTED\]/);
  });

  test('the /incidents/<id> page, which needs no token, shows no secret', async () => {
    const res = await fetch(`${lab.url}/incidents/${incidentId}`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assertClean('the incident page', html);
    assert.match(html, /mail relay rejects login with password \[REDACTED\]/);
  });

  test('the report stored in Redis holds no secret', async () => {
    const keys = await lab.keys(`report:${incidentId}:*`);
    assert.ok(keys.length > 0, 'a report was stored');
    for (const k of keys) assertClean(`the stored ${k}`, (await lab.redis.get(`${lab.prefix}:${k}`)) ?? '');
  });

  test('the digest (email and ntfy) lists the incident without its secrets', async () => {
    const mails = lab.smtp.messages.length;
    const pushes = lab.ntfy.published.length;
    await lab.daemon.queueDigest(new Date(Date.now() + 60_000));
    const digest = await waitFor('the digest mail', () => lab.smtp.messages.slice(mails).find((m) => /^\[DIGEST\]/.test(m.parsed.subject ?? '')), 30_000);
    const push = await waitFor('the digest push', () => lab.ntfy.published.slice(pushes).find((p) => /DIGEST/.test(String(p.headers.title))), 30_000);
    assert.match(digest.parsed.text ?? '', /mail relay rejects login with password \[REDACTED\]/, 'the incident is listed');
    assertClean('the digest mail', `${digest.parsed.subject}\n${digest.parsed.text}\n${String(digest.parsed.html)}`);
    const { authorization: _auth, ...rest } = push.headers;
    assertClean('the digest push', decodeWords(JSON.stringify(rest)) + push.body);
  });

  test('nothing labwatch logged holds a secret', () => {
    assertClean('the log', lab.logs.join(''));
  });
});

describe('with no channel configured, the log notifier writes the report without secrets', () => {
  // Without email and ntfy there is no SMTP password or ntfy token to know: the configured
  // secrets here are the webhook token and the Redis URL's password.
  const forbidden = [SECRETS.httpToken, REDIS.password, 'wiki-pw-9911'];
  let lab: Lab;
  before(async () => {
    lab = await startLab({ redisUrl: REDIS.url, channels: [] });
  });
  after(async () => {
    await lab?.stop();
  });

  test('the report written to the log has the alert, scrubbed', async () => {
    assert.equal((await lab.post(leakyAlert('SmtpRelayLoginLogged', SECRETS.httpToken, SECRETS.httpToken))).status, 200);
    const line = await waitFor('the report in the log', () => lab.logs.find((l) => l.includes('no notification channel configured')), 30_000);
    await lab.drained(30_000);
    assert.match(line, /mail relay rejects login with password \[REDACTED\]/);
    assert.match(line, /redis:\/\/:\[REDACTED\]@db\.lan:6379\/0 \(password \[REDACTED\]\)/, "the Redis URL's password is a configured secret too");
    assertClean('the logged report', line, forbidden);
    assertClean('the log', lab.logs.join(''), forbidden);
  });
});
