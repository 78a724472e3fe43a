/**
 * labwatch between the real Prometheus, Alertmanager and node_exporter (Debian's packages),
 * started here on loopback ports the kernel picks, with temporary data. Prometheus scrapes node_exporter (whose
 * textfile collector is the test's switch) and labwatch's /metrics, evaluates test alerts with a
 * short `for:`, and Alertmanager sends them to labwatch's webhook with a bearer token. The model is
 * scripted, but the tools it calls hit the real Prometheus and Alertmanager.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrometheusClient } from '../../src/connectors/prometheus/client.ts';
import { prometheusCollector } from '../../src/connectors/prometheus/collect.ts';
import { contextFor, evaluateRule } from '../../src/rules/evaluate.ts';
import { loadRules } from '../../src/rules/load.ts';
import { runTool } from '../../src/tools/run.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { LISTEN_ANY, PEER_BINS, peersMissing, startPeer, type Peer } from '../helpers/peers.ts';
import { freePort } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { sharedFixture } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const SERIAL = 'MSK423Y20S3HBC'; // the failing drive in sata-hdd-failing-usb-jmicron-reallocated-exit216.json
const HOST = hostname();
const skip = peersMissing();

const report = (summary: string, action: string, fact = { text: 'lab_trigger is 1', tool_call: 'prometheus_query {"expr":"lab_trigger"}' }) => ({
  summary,
  facts: [fact],
  causes: [{ text: 'The test switch is on', confidence: 'high' }],
  actions: [{ text: action, urgency: 'soon' }],
  not_checked: [],
});

describe('with the real Prometheus and Alertmanager', { skip: skip ?? false, timeout: 110_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-peers-'));
  const textfiles = join(dir, 'textfile');
  const peers: Peer[] = [];
  let prom: Peer;
  let am: Peer;
  let lab: Lab;
  let api: ScriptedAnthropic;
  /** node_exporter's textfile collector is the switch the alerts depend on */
  const trigger = (link: 0 | 1, disk: 0 | 1) =>
    writeFileSync(join(textfiles, 'lab.prom'), `# HELP lab_trigger test switch\n# TYPE lab_trigger gauge\nlab_trigger{scenario="link"} ${link}\nlab_trigger{scenario="disk"} ${disk}\n`);
  const promQuery = async (expr: string) =>
    ((await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  before(async () => {
    const deadPort = await freePort(); // nothing listens there: the NAS's exporter is down
    // The failing drive labwatch's own SMART collector reads (through the fixture-replaying smartctl).
    const smart = join(dir, 'smart');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(smart);
    mkdirSync(textfiles);
    const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
    writeFileSync(join(smart, 'scan.json'), JSON.stringify(scan));
    copyFileSync(join(SMART, 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json'), join(smart, 'sda.json'));
    writeFileSync(join(smart, 'sda.exit'), '216');
    process.env.FAKE_SMARTCTL_DIR = smart;
    trigger(0, 0);

    // Every peer listens on a port the kernel gives (port 0), so the order is: the peers, then
    // labwatch (whose config names Prometheus and Alertmanager), then the peers' configs name
    // labwatch and they reload.
    const node = await startPeer('node_exporter', PEER_BINS.nodeExporter, [LISTEN_ANY, `--collector.textfile.directory=${textfiles}`, '--collector.disable-defaults', '--collector.textfile', '--collector.netdev', '--collector.filesystem', '--collector.time', '--collector.loadavg'], '/metrics');
    peers.push(node);

    writeFileSync(join(dir, 'token'), SECRETS.httpToken);
    const amConfig = (webhook?: string) =>
      `route:\n  receiver: labwatch\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: labwatch\n` +
      (webhook ? `    webhook_configs:\n      - url: ${webhook}\n        send_resolved: true\n        http_config:\n          authorization: { type: Bearer, credentials_file: ${join(dir, 'token')} }\n` : '');
    writeFileSync(join(dir, 'alertmanager.yml'), amConfig());
    am = await startPeer('alertmanager', PEER_BINS.alertmanager, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, LISTEN_ANY, '--cluster.listen-address=', '--log.level=warn'], '/-/ready');
    peers.push(am);

    writeFileSync(
      join(dir, 'alerts.yml'),
      [
        'groups:',
        '  - name: labtest',
        '    rules:',
        '      - alert: TrunkLinkErrors',
        '        expr: lab_trigger{scenario="link"} == 1',
        '        for: 1s',
        '        labels: { severity: critical }',
        '        annotations: { summary: "CRC errors on the trunk to the NAS" }',
        '      - alert: SmartDeviceReallocatedSectors',
        '        expr: lab_trigger{scenario="disk"} == 1',
        '        for: 1s',
        `        labels: { severity: warning, serial_number: ${SERIAL}, instance: "${HOST}:9633" }`,
        '        annotations: { summary: "Drive reallocated sectors (smartctl_exporter)" }',
        '',
      ].join('\n'),
    );
    const promConfig = (labwatch?: string) =>
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        `rule_files: [ ${join(dir, 'alerts.yml')} ]`,
        `alerting: { alertmanagers: [ { static_configs: [ { targets: ['${new URL(am.url).host}'] } ] } ] }`,
        'scrape_configs:',
        `  - { job_name: node, static_configs: [ { targets: ['${new URL(node.url).host}'] } ] }`,
        ...(labwatch ? [`  - { job_name: labwatch, static_configs: [ { targets: ['${labwatch}'] } ] }`] : []),
        `  - { job_name: nas-exporter, static_configs: [ { targets: ['127.0.0.1:${deadPort}'] } ] }`,
        '',
      ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), promConfig());
    prom = await startPeer('prometheus', PEER_BINS.prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, LISTEN_ANY, '--web.enable-lifecycle', '--log.level=warn'], '/-/ready');
    peers.push(prom);

    api = await new ScriptedAnthropic().start();
    lab = await startLab({
      anthropic: { base_url: api.url, max_turns: 4, max_tool_calls: 3, budget: '20s' },
      watchYaml: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: false }\n  host: { enabled: false }\n  prometheus: { schedule: "0 0 1 1 *" }`,
      extraYaml: `prometheus:\n  url: ${prom.url}\n  timeout: 3s\nalertmanager:\n  url: ${am.url}\n  timeout: 3s\n  write_tools: [alertmanager_create_silence]`,
    });
    writeFileSync(join(dir, 'alertmanager.yml'), amConfig(`${lab.url}/webhook/alertmanager`));
    await am.reload();
    writeFileSync(join(dir, 'prometheus.yml'), promConfig(new URL(lab.url).host));
    await prom.reload();
    await waitFor('the first scrapes', async () => (await promQuery('up')).length === 3, 10_000, 200);
  });
  after(async () => {
    await lab?.stop();
    await Promise.all(peers.map((p) => p.stop()));
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("an alert travels Prometheus → Alertmanager → labwatch; Claude's tools read the real Prometheus and Alertmanager; then it resolves", async () => {
    // Prometheus scrapes labwatch itself.
    const up = await waitFor('labwatch scraped', async () => (await promQuery('up{job="labwatch"}'))[0]?.value[1] === '1', 10_000, 200);
    assert.ok(up);

    api.script(
      { toolUse: [{ name: 'prometheus_query', input: { expr: 'lab_trigger' } }] },
      { toolUse: [{ name: 'alertmanager_alerts', input: {} }] },
      { toolUse: [{ name: 'submit_report', input: report('The trunk to the NAS is logging CRC errors.', 'Replace the trunk patch cable') }] },
    );
    const before = lab.smtp.messages.length;
    trigger(1, 0);
    const mail = await waitFor('the report email', () => lab.smtp.messages[before], 30_000, 100);
    assert.match(mail.parsed.subject ?? '', /CRC errors on the trunk to the NAS/);
    assert.match(mail.parsed.text ?? '', /Replace the trunk patch cable/);

    // Triage is offered the read tools of both, never the enabled write tool (nobody is there to confirm it).
    const offered = api.requests[0]!.body.tools.map((t) => t.name);
    assert.ok(['prometheus_query', 'prometheus_query_range', 'prometheus_targets', 'alertmanager_alerts', 'alertmanager_silences'].every((n) => offered.includes(n)), offered.join(' '));
    assert.ok(!offered.includes('alertmanager_create_silence'));
    // What the tools returned came from the real Prometheus and Alertmanager.
    const resultOf = (req: number) => (api.requests[req]!.body.messages.at(-1)!.content as { content: string }[])[0]!.content;
    assert.ok(resultOf(1).includes('scenario=\\"link\\"} = 1'), resultOf(1));
    assert.match(resultOf(2), /TrunkLinkErrors/);
    assert.match(resultOf(2), /active/);

    // The condition clears: Prometheus resolves, Alertmanager sends the resolution, labwatch threads it.
    trigger(0, 0);
    const resolved = await waitFor('the resolution email', () => lab.smtp.messages.slice(before + 1).find((m) => /RESOLVED/.test(m.parsed.subject ?? '')), 30_000, 100);
    assert.equal(resolved.parsed.inReplyTo, mail.parsed.messageId);
    const audited = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string; outcome: string });
    assert.deepEqual(audited.filter((a) => a.caller === 'triage').map((a) => [a.tool, a.outcome]), [['prometheus_query', 'ok'], ['alertmanager_alerts', 'ok']]);
    assert.match(await (await fetch(`${lab.url}/metrics`)).text(), /^labwatch_tool_calls_total\{tool="prometheus_query",caller="triage",outcome="ok"\} 1$/m);
  });

  test("labwatch's SMART collector and Alertmanager report the same disk: one incident, not two", async () => {
    await lab.drained();
    api.script(
      { toolUse: [{ name: 'submit_report', input: report(`Drive ${SERIAL} is failing.`, `Replace drive ${SERIAL} within 7 days`, { text: 'SMART health FAILED', tool_call: 'smart_drive_health' }) }] },
      { toolUse: [{ name: 'submit_report', input: report(`Drive ${SERIAL} is failing; Alertmanager agrees.`, `Replace drive ${SERIAL} within 7 days`, { text: 'smartctl_exporter alert', tool_call: 'alertmanager_alerts' }) }] },
    );
    const run = await lab.daemon.watcher.run('smart');
    const ours = run.anomalies.filter((a) => a.subject === `disk:${SERIAL}` && a.status === 'firing');
    assert.ok(ours.length > 0, 'the collector raises the failing drive');
    const incidentsBefore = await lab.daemon.store.listRecent(50);
    const diskIncident = incidentsBefore.find((i) => Object.values(i.anomalies).some((a) => a.subject === `disk:${SERIAL}`));
    assert.ok(diskIncident);

    trigger(0, 1);
    await waitFor('the alert to join the disk incident', async () => {
      const i = await lab.daemon.store.getIncident(diskIncident.id);
      return i && Object.values(i.anomalies).some((a) => a.source === 'alertmanager' && a.rule === 'SmartDeviceReallocatedSectors');
    }, 30_000, 200);
    const after = await lab.daemon.store.listRecent(50);
    const aboutDisk = after.filter((i) => i.status === 'firing' && Object.values(i.anomalies).some((a) => a.subject === `disk:${SERIAL}`));
    assert.deepEqual(aboutDisk.map((i) => i.id), [diskIncident.id], 'one incident about the disk');
    trigger(0, 0);
  });

  test('PromQL rules run against the real Prometheus: every shipped query is accepted, and a dead target raises an incident', async () => {
    await lab.drained();
    api.script({ toolUse: [{ name: 'submit_report', input: report('The NAS exporter is down.', 'Check the exporter on the NAS', { text: 'up is 0', tool_call: 'prometheus_targets' }) }] });
    await waitFor('the dead target to be scraped', async () => (await promQuery('up{job="nas-exporter"}'))[0]?.value[1] === '0', 10_000, 200);
    const first = await lab.daemon.watcher.run('prometheus');
    assert.equal(first.error, undefined);
    const health = first.observations.filter((o) => o.kind === 'query');
    assert.ok(health.length >= 6, 'one health reading per shipped PromQL rule');
    assert.deepEqual(health.filter((o) => o.values.ok !== true).map((o) => `${o.values.rule}: ${o.values.error}`), [], 'Prometheus 2.42 accepts every shipped query');
    assert.ok(first.observations.some((o) => o.rule === 'prometheus-interface-errors'), 'node_exporter interfaces are read');
    const before = lab.ntfy.published.length;
    const second = await lab.daemon.watcher.run('prometheus');
    const down = second.anomalies.find((a) => a.rule === 'prometheus-target-down');
    assert.ok(down, 'up == 0 for two runs fires');
    assert.match(down.subject, /^target:nas-exporter\/127\.0\.0\.1:\d+$/);
    assert.equal(down.summary, `Prometheus cannot scrape nas-exporter at ${down.subject.split('/')[1]}`);
    // A warning goes to ntfy at once (email waits for the digest), carrying Claude's report.
    const push = await waitFor('the target-down notification', () => lab.ntfy.published.slice(before).find((m) => m.body.includes('Check the exporter on the NAS')), 20_000, 100).catch((e: Error) => {
      throw new Error(`${e.message}; got: ${lab.ntfy.published.slice(before).map((m) => `${String(m.headers.title)}: ${m.body.slice(0, 200)}`).join(' | ')}`);
    });
    assert.match(String(push.headers.title), /nas-exporter/);
  });

  test('a series that stops being returned is reported gone, which resolves what it fired', async () => {
    const rulesDir = join(dir, 'rules');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(rulesDir, { recursive: true });
    writeFileSync(
      join(rulesDir, 'switch.yaml'),
      'rules:\n  - id: lab-switch-on\n    source: prometheus\n    kind: switch\n    query: lab_trigger\n    subject: "switch:{{ values.scenario }}"\n    when: values.value == 1\n    severity: info\n    summary: "{{ values.scenario }} is on"\n',
    );
    const rules = loadRules(rulesDir).rules;
    const collector = prometheusCollector({ host: 'test', client: new PrometheusClient({ url: prom.url, timeoutMs: 3000 }), rules: () => rules });
    trigger(1, 0);
    await waitFor('the link switch on in Prometheus', async () => (await promQuery('lab_trigger{scenario="link"}'))[0]?.value[1] === '1', 10_000, 200);
    const first = await collector.collect(AbortSignal.timeout(5000));
    assert.deepEqual(first.filter((o) => o.rule === 'lab-switch-on').map((o) => [o.subject, o.values.value]).sort(), [['switch:disk', 0], ['switch:link', 1]]);
    // node_exporter stops exporting the link series: Prometheus marks it stale at the next scrape.
    writeFileSync(join(textfiles, 'lab.prom'), '# TYPE lab_trigger gauge\nlab_trigger{scenario="disk"} 0\n');
    await waitFor('the link series gone from Prometheus', async () => (await promQuery('lab_trigger{scenario="link"}')).length === 0, 10_000, 200);
    const second = await collector.collect(AbortSignal.timeout(5000));
    const gone = second.filter((o) => o.gone);
    assert.deepEqual(gone.map((o) => [o.subject, o.values.value]), [['switch:link', 1]], 'reported gone with its last values');
    // Through the rules, gone resolves what fired.
    const outcome = evaluateRule(rules[0]!, gone[0]!, contextFor(gone[0]!, undefined, [], new Date()), { count: 1, firing: true, since: new Date().toISOString() });
    assert.equal(outcome.verdict, 'resolved');
    trigger(0, 0);
  });

  test('Prometheus down: the tools and the collector say so clearly, and nothing blocks', async () => {
    await prom.stop();
    const tool = lab.daemon.hub && (await lab.daemon.hub.tools()).find((t) => t.name === 'prometheus_query')!;
    const r = await runTool(tool, { expr: 'up' }, { record: async () => {} }, { caller: 'cli' });
    assert.equal(r.status, 'error');
    assert.match(r.text, new RegExp(`cannot reach Prometheus at ${prom.url.replace(/[.]/g, '\\.')}`));
    const run = await lab.daemon.watcher.run('prometheus');
    assert.match(run.error ?? '', /cannot reach Prometheus/);
    assert.match(await (await fetch(`${lab.url}/metrics`)).text(), /^labwatch_collector_runs_total\{collector="prometheus",outcome="error"\} 1$/m);
    const ready = await fetch(`${lab.url}/readyz`);
    assert.equal(ready.status, 200, 'a dead Prometheus does not make labwatch unready');

    // An alert arrives while Prometheus is down and the API fails too: the fallback report runs the
    // default checks and says which one could not be done, and why.
    await lab.drained();
    // Every request fails (a late resolution from an earlier scenario may be triaged meanwhile too).
    api.script(...Array.from({ length: 30 }, () => ({ status: 500, type: 'api_error' })));
    const before = lab.smtp.messages.length;
    const payload = FIRING_AM021.replaceAll('DemoAlert', 'NasLoadHigh').replace('"server":"ni3"', '"server":"ni3","instance":"ni3:9100"');
    assert.equal((await lab.post(payload)).status, 200);
    // Earlier scenarios' resolutions may still arrive: pick this alert's report by its subject.
    const mail = await waitFor('the fallback report', () => lab.smtp.messages.slice(before).find((m) => /This is a demo/.test(m.parsed.subject ?? '')), 30_000, 100);
    const text = mail.parsed.text ?? '';
    assert.match(text, /AI triage failed \(the Anthropic API answered 500 after retries\)/);
    assert.match(text, /could not check: cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+/);
  });
});
