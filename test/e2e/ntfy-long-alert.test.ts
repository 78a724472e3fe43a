/**
 * An alert with absurdly long text (a 20,000-character alertname and runbook URL) still reaches
 * an ntfy server behind nginx, whose `large_client_header_buffers` refuse headers over 8 KB:
 * labwatch keeps its headers within 4 KB and moves what does not fit into the body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

const NAME = 'ZpoolLatency' + 'Q'.repeat(20_000);
const RUNBOOK = 'https://wiki.lan/runbooks/' + 'z'.repeat(20_000);

function longAlert(): string {
  const p = JSON.parse(FIRING_AM021) as {
    alerts: { labels: Record<string, string>; annotations: Record<string, string>; fingerprint?: string }[];
    commonLabels: Record<string, string>;
    groupLabels: Record<string, string>;
    groupKey: string;
  };
  const a = p.alerts[0]!;
  a.labels.alertname = p.commonLabels.alertname = p.groupLabels.alertname = NAME;
  a.annotations.runbook_url = RUNBOOK;
  delete a.fingerprint;
  p.groupKey = `{}:{alertname="${NAME.slice(0, 20)}"}`;
  return JSON.stringify(p);
}

describe('a 20,000-character alertname and runbook URL, with ntfy behind an 8 KB header limit', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ ntfy: { maxHeaderBytes: 8 * 1024 } });
  });
  after(async () => {
    await lab?.stop();
  });

  test('the ntfy message is published, not refused and lost, and the email goes out too', async () => {
    const res = await lab.post(longAlert());
    assert.equal(res.status, 200, JSON.stringify(res.json));
    await waitFor('the email', () => lab.smtp.messages[0], 30_000);
    await lab.drained(30_000);
    assert.equal(lab.ntfy.refused.length, 0, 'no request was over the proxy limit');
    const push = lab.ntfy.published[0];
    assert.ok(push, `ntfy received a message (requests: ${lab.ntfy.requests.length}, refused: ${lab.ntfy.refused.length})`);
    const ours = ['authorization', 'content-type', 'title', 'priority', 'tags', 'click', 'markdown', 'actions'];
    const bytes = ours.reduce((n, h) => (push.headers[h] === undefined ? n : n + Buffer.byteLength(`${h}: ${String(push.headers[h])}\r\n`, 'latin1')), 0);
    assert.ok(bytes <= 4096, `labwatch's headers take ${bytes} bytes`);
    assert.equal(push.headers.title, '[CRITICAL] ni3: This is a demo', 'a title that fits is left alone');
    assert.equal(push.headers.tags, 'rotating_light', 'the 20,000-character alertname is no tag');
    // The intake already cut the 20,000-character values (4 KiB labels; a URL that long is not
    // linked); what is left of the alert still reaches the phone, in the body.
    assert.match(push.body, /ZpoolLatencyQQQ/, 'the alert is in the body');
    assert.ok(!String(push.headers.actions ?? '').includes('zzzz') && !String(push.headers.click ?? '').includes('zzzz'), 'the runbook is not in the headers');
    assert.equal(push.headers.priority, '5');
  });
});
