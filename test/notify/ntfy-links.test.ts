/**
 * Links in an ntfy push work in every client: the markdown body escapes alert text, but never
 * inside a URL (`prometheus\.lab`, `node\_filesystem` are dead links where text is shown as it is).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { NtfyNotifier } from '../../src/notify/channels/ntfy/send.ts';
import { escapeMarkdown, messageFor } from '../../src/notify/render.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { TestNtfy } from '../helpers/ntfy.ts';

const ntfy = await new TestNtfy().start();
after(() => ntfy.stop());

/** The real 0.21 body (its generatorURL as sent, or another), through the intake and the report without a model, pushed to ntfy. */
async function pushed(generatorURL?: string) {
  const p = JSON.parse(FIRING_AM021) as { alerts: { generatorURL: string }[] };
  if (generatorURL) p.alerts[0]!.generatorURL = generatorURL;
  const inc = mergeAnomalies(null, alertsToAnomalies(parseAlertmanagerPayload(p)), '2026-11-24T10:00:00.000Z')!.incident;
  const report = deterministicReport(inc, [], new Date('2026-11-24T10:00:01Z'));
  const before = ntfy.published.length;
  await new NtfyNotifier({ url: ntfy.url, topic: 'homelab' }).send(messageFor(report));
  return ntfy.published[before]!;
}

test("the alert's generatorURL reaches the ntfy body byte for byte, the words around it escaped", async () => {
  const real = (JSON.parse(FIRING_AM021) as { alerts: { generatorURL: string }[] }).alerts[0]!.generatorURL;
  assert.equal(real, 'http://n3:9090/graph?g0.expr=sum%28prometheus_build_info%29+%3C+3&g0.tab=1');
  const push = await pushed();
  assert.equal(push.headers.markdown, 'yes');
  assert.ok(push.body.includes(real), push.body);
  assert.ok(!push.body.includes('prometheus\\_build\\_info'), push.body);

  const fs = 'http://prometheus.lab:9090/graph?g0.expr=node_filesystem_avail_bytes%7Bmountpoint%3D%22%2Fsrv%22%7D+%2F+node_filesystem_size_bytes+*+100+%3C+5&g0.tab=1';
  const second = await pushed(fs);
  assert.ok(second.body.includes(fs), second.body);
  assert.doesNotMatch(second.body, /prometheus\\\.lab|node\\_filesystem/);
});

test('text around URLs is still escaped; a URL ends where GFM ends it; no link or image is smuggled in', () => {
  assert.equal(
    escapeMarkdown('See http://prometheus.lab:9090/graph?g0.expr=node_filesystem_avail_bytes. *Now*'),
    'See http://prometheus.lab:9090/graph?g0.expr=node_filesystem_avail_bytes\\. \\*Now\\*',
  );
  assert.equal(escapeMarkdown('(runbook: https://wiki.lan/disk_full)'), '\\(runbook: https://wiki.lan/disk_full\\)');
  assert.equal(escapeMarkdown('https://en.wikipedia.org/wiki/ZFS_(file_system)'), 'https://en.wikipedia.org/wiki/ZFS_(file_system)');
  assert.equal(escapeMarkdown('![x](http://tracker.example/p.png)'), '\\!\\[x\\]\\(http://tracker.example/p.png\\)');
  assert.equal(escapeMarkdown('http://a.lan/![x](http://tracker.example/p.png)'), 'http://a.lan/\\!\\[x\\]\\(http://tracker\\.example/p\\.png\\)');
  assert.equal(escapeMarkdown('node_filesystem at http:// and ftp://x.lan'), 'node\\_filesystem at http:// and ftp://x\\.lan');
});
