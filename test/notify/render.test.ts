import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { NTFY_BODY_LIMIT_BYTES, renderPush } from '../../src/notify/channels/ntfy/push.ts';
import { headerValue } from '../../src/notify/channels/ntfy/send.ts';
import { render, truncateUtf8 } from '../../src/notify/render.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

function reportFor(body: string) {
  const inc = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(body))), '2026-11-24T10:00:00.000Z')!.incident;
  return deterministicReport(inc, ['AI triage is off.'], new Date('2026-11-24T10:00:01Z'));
}

test('the subject says severity, host and what is wrong, in that order', () => {
  assert.equal(render(reportFor(FIRING_AM021)).subject, '[CRITICAL] ni3: This is a demo');
});

test('alert text is data: markup in annotations is escaped in HTML, never rendered', () => {
  const evil = FIRING_AM021.replace('"This is a demo"', '"<img src=x onerror=alert(1)><script>steal()</script>"');
  const { html, text } = render(reportFor(evil));
  assert.ok(!html.includes('<script>'), 'no script tag survives');
  assert.ok(!html.includes('<img'), 'no image tag survives (and no remote images at all)');
  assert.match(html, /&lt;script&gt;steal\(\)&lt;\/script&gt;/);
  assert.match(text, /<script>steal\(\)<\/script>/, 'plain text shows it literally');
});

test('the text report has the sections a person scans for, and says why AI is absent', () => {
  const { text } = render(reportFor(FIRING_AM021));
  for (const heading of ['What was observed', 'What to do', 'Links']) assert.match(text, new RegExp(`^${heading}$`, 'm'));
  assert.match(text, /Firing since 2021-01-07 08:38:00 UTC/);
  assert.match(text, /AI triage is off\./);
});

test('ntfy bodies are cut to 4,096 UTF-8 bytes without breaking a character', () => {
  const long = FIRING_AM021.replace('"This is a demo"', JSON.stringify('Temperatur 52 °C — ' + 'ü'.repeat(5000)));
  const push = renderPush(reportFor(long));
  assert.ok(Buffer.byteLength(push.body) <= NTFY_BODY_LIMIT_BYTES);
  assert.ok(!push.body.includes('\uFFFD'), 'no broken character');
  assert.match(push.body, /… \(truncated\)$/);
  assert.equal(truncateUtf8('short', 10), 'short');
});

test('non-ASCII titles are sent RFC 2047-encoded, as ntfy accepts them', () => {
  assert.equal(headerValue('disk at 52 °C'), `=?UTF-8?B?${Buffer.from('disk at 52 °C').toString('base64')}?=`);
  assert.equal(headerValue('plain\r\nInjected: yes'), 'plain Injected: yes', 'no header injection through newlines');
});

test('ntfy messages are markdown with alert text escaped, at most three actions, and a cut body links to the whole report', () => {
  const starry = FIRING_AM021.replace('"This is a demo"', '"*not bold* [link](http://evil)"').replace('"summary"', '"runbook_url":"https://wiki.lan/disk","summary"');
  const push = renderPush(reportFor(starry), 'http://labwatch.lan:9877/');
  assert.equal(push.markdown, true);
  assert.match(push.body, /\\\*not bold\\\* \\\[link\\\]\\\(http:\/\/evil\\\)/);
  assert.ok((push.actions ?? []).length <= 3);
  assert.deepEqual(push.actions![0], { action: 'view', label: 'Open report', url: `http://labwatch.lan:9877/incidents/${reportFor(starry).incidentId}` });
  assert.equal(push.actions![1]!.label, 'Runbook');
  assert.equal(push.click, push.actions![0]!.url);

  const long = FIRING_AM021.replace('"This is a demo"', JSON.stringify('x'.repeat(6000)));
  const cut = renderPush(reportFor(long), 'http://labwatch.lan:9877');
  assert.ok(Buffer.byteLength(cut.body) <= NTFY_BODY_LIMIT_BYTES);
  assert.match(cut.body, /… \[the whole report\]\(http:\/\/labwatch\.lan:9877\/incidents\/inc-[0-9a-f]+-[0-9a-z]+\)$/);
});
