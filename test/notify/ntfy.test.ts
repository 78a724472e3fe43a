/**
 * The ntfy notifier against the loopback receiver with a header limit, as ntfy answers behind
 * nginx (8 KB) or with Go's default (1 MB): oversized alert text never costs the message.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { NotifyError } from '../../src/notify/notifier.ts';
import { NTFY_BODY_LIMIT_BYTES } from '../../src/notify/channels/ntfy/push.ts';
import { NtfyNotifier } from '../../src/notify/channels/ntfy/send.ts';
import { messageFor } from '../../src/notify/render.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { TestNtfy, type NtfyRequest } from '../helpers/ntfy.ts';

const TOKEN = 'tk_ntfytestabcdefghijklmnopqrstu';
/** All our headers together stay within 4 KB, far below any proxy's limit. */
const NTFY_HEADER_BUDGET_BYTES = 4096;
const receivers: TestNtfy[] = [];
after(async () => {
  for (const r of receivers) await r.stop();
});

async function receiver(maxHeaderBytes: number): Promise<{ ntfy: TestNtfy; notifier: NtfyNotifier }> {
  const ntfy = await new TestNtfy({ maxHeaderBytes }).start();
  receivers.push(ntfy);
  return { ntfy, notifier: new NtfyNotifier({ url: ntfy.url, topic: 'homelab', token: TOKEN }) };
}

/** A report on an Alertmanager alert with the given alertname, summary and runbook URL. */
function message(opts: { alertname?: string; summary?: string; runbook?: string }, publicUrl?: string) {
  const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[]; commonLabels: Record<string, string> };
  const a = p.alerts[0]!;
  if (opts.alertname) a.labels.alertname = p.commonLabels.alertname = opts.alertname;
  if (opts.summary) a.annotations.summary = opts.summary;
  if (opts.runbook) a.annotations.runbook_url = opts.runbook;
  const inc = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(JSON.stringify(p)))), '2026-11-24T10:00:00.000Z')!.incident;
  const report = deterministicReport(inc, ['AI triage is off.'], new Date('2026-11-24T10:00:01Z'));
  // The intake does not link a URL past its size limit, but a report from elsewhere (Claude's)
  // may still carry one: the notifier must cope either way.
  if (opts.runbook && !report.links.some((l) => l.title === 'Runbook')) report.links.push({ title: 'Runbook', url: opts.runbook });
  return messageFor(report, publicUrl);
}

/** What our own headers weigh on the wire (the ones fetch adds itself are the same every time). */
function ourHeaderBytes(r: NtfyRequest): number {
  const ours = ['authorization', 'content-type', 'title', 'priority', 'tags', 'click', 'markdown', 'actions'];
  return ours.reduce((n, h) => (r.headers[h] === undefined ? n : n + Buffer.byteLength(`${h}: ${String(r.headers[h])}\r\n`, 'latin1')), 0);
}

const decode = (v: unknown) => String(v ?? '').replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_m, b: string) => Buffer.from(b, 'base64').toString('utf8'));

test('a 20,000-character alertname and runbook URL reach an ntfy behind nginx (8 KB of headers), cut in the headers and kept in the body', async () => {
  const { ntfy, notifier } = await receiver(8 * 1024);
  const name = 'DiskLatency' + 'X'.repeat(20_000);
  const runbook = 'https://wiki.lan/runbooks/' + 'r'.repeat(20_000);
  const id = await notifier.send(message({ alertname: name, summary: name, runbook }, 'http://labwatch.lan:9877'));
  assert.ok(id, 'ntfy stored it');
  assert.equal(ntfy.refused.length, 0, 'nothing was refused: the first request already fit');
  const push = ntfy.published[0]!;
  assert.ok(ourHeaderBytes(push) <= NTFY_HEADER_BUDGET_BYTES, `our headers take ${ourHeaderBytes(push)} bytes`);
  assert.match(decode(push.headers.title), /^\[CRITICAL\] ni3: DiskLatencyX+…$/, 'the title is cut with an ellipsis');
  assert.ok(push.body.startsWith('**\\[CRITICAL\\] ni3: DiskLatencyXXXX'), 'the full title opens the body');
  assert.ok(!String(push.headers.tags).includes('XXXX'), 'a tag that does not fit is left out');
  assert.match(String(push.headers.click), /^http:\/\/labwatch\.lan:9877\/incidents\/inc-[0-9a-f]+-[0-9a-z]+$/, 'the short link still fits');
  assert.ok(!String(push.headers.actions ?? '').includes('rrrr'), 'the runbook action is not in the headers');
  assert.match(push.body, /Runbook: a link of 20026 characters, too long for a push message/, 'the body says where the runbook went');
  assert.ok(Buffer.byteLength(push.body) <= NTFY_BODY_LIMIT_BYTES);
});

test('a runbook URL too long for the headers becomes a line in the body', async () => {
  const { ntfy, notifier } = await receiver(8 * 1024);
  const runbook = 'https://wiki.lan/runbooks/disk?' + 'section=latency&'.repeat(100);
  await notifier.send(message({ runbook }));
  const push = ntfy.published[0]!;
  assert.ok(ourHeaderBytes(push) <= NTFY_HEADER_BUDGET_BYTES);
  assert.ok(!String(push.headers.actions ?? '').includes('section=latency'), 'no runbook action in the headers');
  assert.notEqual(push.headers.click, runbook);
  assert.ok(push.body.includes(`Runbook: <${runbook}>`), 'the runbook is a line in the body');
});

test('a long non-ASCII title is cut on a character boundary and stays RFC 2047-encoded, as ntfy decodes it', async () => {
  const { ntfy, notifier } = await receiver(8 * 1024);
  await notifier.send(message({ summary: 'Temperatur über 52 °C — ' + 'ü'.repeat(3000) }));
  const push = ntfy.published[0]!;
  assert.match(String(push.headers.title), /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
  const title = decode(push.headers.title);
  assert.ok(!title.includes('\uFFFD'), 'no broken character');
  assert.match(title, /^\[CRITICAL\] ni3: Temperatur über 52 °C — ü+…$/);
  assert.ok(ourHeaderBytes(push) <= NTFY_HEADER_BUDGET_BYTES);
});

test('431 from ntfy is answered by one smaller request: short title, priority, no actions, click or tags', async () => {
  // Between the two sizes: the whole message does not fit, the minimal one does.
  const { ntfy, notifier } = await receiver(1200);
  const runbook = 'https://wiki.lan/runbooks/' + 'r'.repeat(400);
  const id = await notifier.send(message({ summary: 'Pool tank is degraded ' + 'and more detail '.repeat(20), runbook }));
  assert.ok(id);
  assert.equal(ntfy.refused.length, 1, 'the first request was refused');
  assert.equal(ntfy.published.length, 1, 'the smaller one went through');
  const push = ntfy.published[0]!;
  for (const h of ['actions', 'click', 'tags']) assert.equal(push.headers[h], undefined, `no ${h} header`);
  assert.equal(push.headers.priority, '5');
  assert.ok(String(push.headers.title).length <= 100, 'a short title');
  assert.match(decode(push.headers.title), /…$/);
  assert.ok(push.body.includes(`Runbook: <${runbook}>`), 'the runbook moved into the body');
  assert.match(push.body, /^\*\*\\\[CRITICAL\\\] ni3: Pool tank is degraded/, 'the whole title opens the body');
});

test('an ntfy that refuses even the smallest request fails for good after that one retry', async () => {
  const { ntfy, notifier } = await receiver(300);
  await assert.rejects(notifier.send(message({})), (e: unknown) => {
    assert.ok(e instanceof NotifyError);
    assert.equal(e.retryable, false, 'retrying the same request cannot help');
    assert.match(e.message, /431/);
    assert.match(e.message, /header/i);
    return true;
  });
  assert.equal(ntfy.requests.length, 2, 'the message, then its minimal form; nothing more');
});
