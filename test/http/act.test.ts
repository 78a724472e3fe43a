/**
 * Acknowledge and Snooze from where people are: a real labwatch with notify.public_url sends an
 * opened incident to ntfy with two buttons and to email with two links; the ntfy button acts once,
 * the email link opens a page that acts only when its button is pressed, and forged, expired and
 * replayed links are refused. Without public_url there are no buttons.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ActionLinks } from '../../src/notify/action-links.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021, resolvedOf } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';

const PUBLIC = 'https://labwatch.example.net';

/** The lab's own address for a link made under PUBLIC (the test reaches labwatch on loopback). */
const local = (lab: Lab, url: string) => url.replace(PUBLIC, lab.url);

async function post(url: string, form = false) {
  const res = await fetch(url, { method: 'POST', ...(form ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' } : {}) });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get('content-type') ?? '', json: () => JSON.parse(text) as Record<string, unknown> };
}

describe('with notify.public_url', () => {
  let lab: Lab;
  let id: string;
  before(async () => {
    lab = await startLab({ notifyExtra: { public_url: PUBLIC } });
    const res = await lab.post(FIRING_AM021);
    id = (res.json.incidents as string[])[0]!;
    await waitFor('the push and the mail', () => lab.ntfy.published[0] && lab.smtp.messages[0]);
  });
  after(async () => {
    await lab.stop();
  });

  test('the ntfy Acknowledge button acknowledges the incident once, as a link, audited; a replay is refused', async () => {
    const actions = String(lab.ntfy.published[0]!.headers.actions).split('; ');
    const ack = /^http, Acknowledge, (\S+), method=POST, clear=true$/.exec(actions[1]!)?.[1];
    assert.ok(ack?.startsWith(`${PUBLIC}/api/act/`), actions.join('; '));
    assert.match(actions[2]!, /^http, Snooze 24 h, \S+, method=POST, clear=true$/);

    const first = await post(local(lab, ack!));
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json(), { ok: true, action: 'acknowledge', incident: id });
    const attention = await lab.daemon.actions.attention(id);
    assert.equal(attention.acknowledged?.by, 'ntfy/email link');
    assert.deepEqual((await lab.daemon.actions.log(id)).map((e) => [e.action, e.by, e.via]), [['acknowledged', 'ntfy/email link', 'link']]);
    const audit = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(audit.some((e) => e.caller === 'link' && e.tool === 'incident_acknowledge' && e.incident === id && e.outcome === 'ok'), 'audited');

    const again = await post(local(lab, ack!));
    assert.equal(again.status, 403);
    assert.deepEqual(again.json(), { error: 'this link was already used' });
  });

  test('a link with one character changed is refused as not valid, and an expired one as expired', async () => {
    const acks = async () => (await lab.daemon.actions.log(id)).filter((e) => e.action === 'acknowledged').length;
    const before = await acks();
    const links = new ActionLinks(lab.redis, lab.prefix);
    const token = await links.sign({ incident: id, action: 'acknowledge' });
    const forged = token.slice(0, 8) + (token[8] === 'A' ? 'B' : 'A') + token.slice(9);
    const refused = await post(`${lab.url}/api/act/${forged}`);
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json(), { error: 'this link is not valid' });

    const expired = await post(`${lab.url}/api/act/${await links.sign({ incident: id, action: 'acknowledge' }, -1000)}`);
    assert.equal(expired.status, 403);
    assert.deepEqual(expired.json(), { error: 'this link has expired' });
    assert.deepEqual((await post(`${lab.url}/api/act/${'x'.repeat(90)}`)).json(), { error: 'this link is not valid' });
    assert.equal((await post(`${lab.url}/api/act/${'x'.repeat(5000)}`)).status, 414, 'an overlong token is refused by the router');
    assert.equal(await acks(), before, 'none of them acted');
  });

  test('the email links open a page that only asks; the incident is snoozed when its button is pressed', async () => {
    const mail = lab.smtp.messages[0]!.parsed;
    const snooze = /^Snooze 24 h: (\S+)$/m.exec(mail.text ?? '')?.[1];
    assert.ok(snooze?.startsWith(`${PUBLIC}/act/`), mail.text);
    assert.match(String(mail.html), new RegExp(`href="${PUBLIC.replace(/\./g, '\\.')}/act/[\\w-]+\\.[\\w-]+"[^>]*>Acknowledge</a>`));

    // What a mail scanner or a link preview does: GET, as often as it likes.
    for (let i = 0; i < 2; i++) {
      const page = await fetch(local(lab, snooze!));
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self'/);
      const html = await page.text();
      assert.match(html, /Snooze this incident for 24 hours\?/);
      assert.match(html, /This is a demo/, "the incident's title");
      assert.match(html, /<form method="post" action="\.\.\/api\/act\/[\w-]+\.[\w-]+"><button type="submit">Snooze 24 h<\/button><\/form>/);
    }
    assert.equal((await lab.daemon.actions.attention(id)).snoozedUntil, undefined, 'a GET never acts');

    // The button: a form POST to the relative action, answered with a page.
    const pressed = await post(local(lab, snooze!).replace('/act/', '/api/act/'), true);
    assert.equal(pressed.status, 200, pressed.text);
    assert.match(pressed.type, /text\/html/);
    assert.match(pressed.text, /Snoozed/);
    const until = (await lab.daemon.actions.attention(id)).snoozedUntil;
    assert.equal(until?.by, 'ntfy/email link');
    assert.ok(Math.abs(Date.parse(until!.until) - Date.now() - 86_400_000) < 60_000, until?.until);

    const used = await fetch(local(lab, snooze!));
    assert.equal(used.status, 403);
    assert.match(await used.text(), /This link was already used/);
  });

  test('the resolution carries no buttons, and a link to a resolved incident does nothing (409)', async () => {
    const unused = /^Acknowledge: (\S+)$/m.exec(lab.smtp.messages[0]!.parsed.text ?? '')?.[1];
    assert.ok(unused);
    await lab.post(resolvedOf(FIRING_AM021));
    const resolved = await waitFor('the resolved push', () => lab.ntfy.published.find((p) => String(p.headers.title).startsWith('[RESOLVED]')));
    assert.doesNotMatch(String(resolved.headers.actions ?? ''), /http,/);
    const late = await post(local(lab, unused).replace('/act/', '/api/act/'));
    assert.equal(late.status, 409, late.text);
    assert.match(String(late.json().error), /already resolved/);
  });
});

describe('without notify.public_url', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('messages carry no Acknowledge or Snooze buttons or links', async () => {
    await lab.post(FIRING_AM021);
    const push = await waitFor('the push', () => lab.ntfy.published[0]);
    const mail = await waitFor('the mail', () => lab.smtp.messages[0]);
    assert.doesNotMatch(String(push.headers.actions ?? ''), /http,|Acknowledge|Snooze/);
    assert.doesNotMatch(push.body, /Acknowledge|Snooze/);
    assert.doesNotMatch(mail.parsed.text ?? '', /Acknowledge|Snooze|\/act\//);
    assert.doesNotMatch(String(mail.parsed.html), /Acknowledge|Snooze|\/act\//);
    assert.deepEqual(await lab.keys('linkkey'), [], 'no key was even made');
  });
});
