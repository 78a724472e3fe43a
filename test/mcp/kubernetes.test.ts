/**
 * Kubernetes through an external MCP server (containers/kubernetes-mcp-server), not a connector of
 * our own: the `mcp.servers` entry the README documents, run against a stand-in that lists the same
 * tools with the same schemas and annotations (test/helpers/kubernetes-mcp-stand-in.ts). The config
 * loads, the hub offers exactly the allowed read tools, a write tool never reaches the model, and a
 * kube-prometheus KubePodCrashLooping alert is triaged with the pod's log and events.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.ts';
import { buildHub, buildProbes } from '../../src/registry.ts';
import { createLogger } from '../../src/telemetry/log.ts';
import { runTool } from '../../src/tools/run.ts';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { CRASHING_POD } from '../helpers/kubernetes-mcp-stand-in.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

const STAND_IN = fileURLToPath(new URL('../helpers/kubernetes-mcp-stand-in.ts', import.meta.url));
const SYNTHETIC = new URL('../fixtures-derived/kubernetes/', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'labwatch-k8s-'));

/** The block the README documents, word for word. */
const DOCUMENTED = `mcp:
  servers:
    - name: kubernetes
      command: /usr/local/bin/kubernetes-mcp-server
      args: [--read-only, --toolsets, core, --kubeconfig, /etc/labwatch/kubernetes-mcp.kubeconfig]
      tools: [pods_list, pods_list_in_namespace, pods_get, pods_log, events_list, nodes_top, resources_list, resources_get]
      timeout: 30s
`;
const ALLOWED = ['pods_list', 'pods_list_in_namespace', 'pods_get', 'pods_log', 'events_list', 'nodes_top', 'resources_list', 'resources_get'];

/** The documented block with only the program swapped for the stand-in (node runs it through tsx). */
function withStandIn(yaml = DOCUMENTED): string {
  const swapped = yaml
    .replace('command: /usr/local/bin/kubernetes-mcp-server', `command: ${process.execPath}`)
    .replace('args: [', `args: [--import, tsx, ${STAND_IN}, `);
  assert.notEqual(swapped, yaml, 'the documented block names the program and its args');
  return swapped;
}

function configFrom(yaml: string, name: string) {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (l) => void lines.push(l) } });
  return { cfg: loadConfig(file, {}), log, lines };
}

const standInLog = (name: string) => {
  const file = join(dir, name);
  writeFileSync(file, '');
  return { file, lines: () => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) };
};

describe('the documented kubernetes-mcp-server entry', () => {
  test('loads through the config loader and the hub offers exactly the allowed read tools, as kubernetes__<tool>', async () => {
    const calls = standInLog('documented.log');
    const { cfg, log } = configFrom(withStandIn().replace('      timeout: 30s', `      timeout: 30s\n      env: { K8S_STANDIN_LOG: ${calls.file} }`), 'documented.yaml');
    assert.deepEqual(cfg.mcp.servers[0]!.tools, ALLOWED);
    const hub = buildHub(cfg, [], '0.0.0', log);
    try {
      const tools = await hub.tools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ALLOWED.map((t) => `kubernetes__${t}`).sort());
      for (const t of tools) assert.equal(t.annotations.readOnly, true, `${t.name} is declared read-only upstream`);
      // The schemas are the server's own: pods_log needs a name and takes tail, previous and container.
      const podsLog = tools.find((t) => t.name === 'kubernetes__pods_log')!;
      const schema = podsLog.schema?.json as { required: string[]; properties: Record<string, { type: string }> };
      assert.deepEqual(schema.required, ['name']);
      assert.deepEqual(Object.keys(schema.properties).sort(), ['container', 'name', 'namespace', 'previous', 'tail']);
      const bad = await runTool(podsLog, { namespace: 'kubeflow', tail: -1 }, { record: async () => {} }, { caller: 'cli' });
      assert.equal(bad.status, 'error', 'input is checked against the schema before the server sees it');
      // The program was started read-only with the core toolset, as documented.
      assert.deepEqual(JSON.parse(calls.lines()[0]!.slice('argv '.length)), ['--read-only', '--toolsets', 'core', '--kubeconfig', '/etc/labwatch/kubernetes-mcp.kubeconfig']);
      assert.ok(!calls.lines().some((l) => l.startsWith('call ')), 'nothing was called on its own');
    } finally {
      await hub.close();
    }
  });

  test('`labwatch check` names every allowed tool the server offers', async () => {
    const { cfg, log } = configFrom(withStandIn(), 'check.yaml');
    const probe = buildProbes(cfg, log).find((p) => p.name === 'mcp kubernetes')!;
    assert.equal(await probe.probe(), `MCP server kubernetes: ${ALLOWED.map((t) => `kubernetes__${t}`).join(', ')}`);
  });

  test('without --read-only the server lists pods_delete and resources_create_or_update, and the allow-list still keeps them out', async () => {
    const { cfg, log } = configFrom(withStandIn(DOCUMENTED.replace('--read-only, ', '')), 'writable.yaml');
    const hub = buildHub(cfg, [], '0.0.0', log);
    try {
      const names = (await hub.tools()).map((t) => t.name);
      assert.equal(names.length, ALLOWED.length);
      assert.ok(!names.some((n) => /delete|create_or_update|exec/.test(n)), names.join(' '));
    } finally {
      await hub.close();
    }
  });

  test('a write tool someone does allow is marked as writing, so triage leaves it alone', async () => {
    const yaml = withStandIn(DOCUMENTED.replace('--read-only, ', '').replace('tools: [pods_list, ', 'tools: [pods_delete, pods_list, '));
    const { cfg, log, lines } = configFrom(yaml, 'allowed-write.yaml');
    const hub = buildHub(cfg, [], '0.0.0', log);
    try {
      const del = (await hub.tools()).find((t) => t.name === 'kubernetes__pods_delete')!;
      assert.deepEqual([del.annotations.readOnly, del.annotations.destructive], [false, true]);
      assert.ok(lines.some((l) => l.includes("kubernetes's tool pods_delete is not declared read-only: triage will not use it")));
    } finally {
      await hub.close();
    }
  });
});

/** The last line the stand-in's pods_log returns (kubeflow/katib#1115), quoted in the report's facts. */
const LOG_LINE = 'E0317 07:48:34.150400 1 mysql.go:57] Ping to Katib db failed: dial tcp 10.254.131.230:3306: i/o timeout';

describe('triage of a kube-prometheus KubePodCrashLooping alert with the kubernetes tools', () => {
  let api: ScriptedAnthropic;
  let lab: Lab;
  const calls = standInLog('triage.log');
  before(async () => {
    api = await new ScriptedAnthropic().start();
    const yaml = withStandIn().replace('      timeout: 30s', `      timeout: 30s\n      env: { K8S_STANDIN_LOG: ${calls.file} }`);
    lab = await startLab({
      anthropic: { base_url: api.url, max_turns: 4, max_tool_calls: 3, budget: '10s' },
      notifyExtra: { routes: [{ match: { labels: { job: 'kube-state-metrics' } }, channels: ['email'] }] },
      extraYaml: yaml,
    });
  });
  after(async () => {
    await lab?.stop();
    await api?.stop();
  });

  test("Claude reads the pod's previous log and its namespace's events; both calls are audited and what they said reaches the report", async () => {
    const { namespace, name, container } = CRASHING_POD;
    api.script(
      { toolUse: [{ name: 'kubernetes__pods_log', input: { namespace, name, container, previous: true, tail: 50 } }] },
      { toolUse: [{ name: 'kubernetes__events_list', input: { namespace } }] },
      {
        toolUse: [
          {
            name: 'submit_report',
            input: {
              summary: `${namespace}/${name} keeps crashing: katib-manager cannot reach its MySQL database (katib-db) and exits.`,
              facts: [
                { text: `Last log line before the crash: ${LOG_LINE}`, tool_call: `kubernetes__pods_log {"namespace":"${namespace}","name":"${name}","previous":true}` },
                { text: 'kubelet: Warning BackOff "Back-off restarting failed container"; readiness probe on :6789 timing out', tool_call: `kubernetes__events_list {"namespace":"${namespace}"}` },
              ],
              causes: [{ text: 'The katib-db pod is not ready, so katib-manager times out on 10.254.131.230:3306', confidence: 'medium' }],
              actions: [{ text: 'Look at why katib-db in kubeflow is not ready (its log and events) before restarting katib-manager', urgency: 'soon' }],
              not_checked: ['the katib-db pod itself'],
            },
          },
        ],
      },
    );
    const body = readFileSync(new URL('webhook-kubepodcrashlooping.json', SYNTHETIC), 'utf8');
    assert.equal((await lab.post(body)).status, 200);

    // The lab routes kube-state-metrics alerts to email at once (without a route, email gets warnings in the digest).
    const mail = await waitFor('the report email', () => lab.smtp.messages[0], 20_000, 100);
    const text = mail.parsed.text ?? '';
    assert.match(mail.parsed.subject ?? '', /Pod is crash looping/);
    assert.ok(text.includes(LOG_LINE), text);
    assert.match(text, /Back-off restarting failed container/);
    assert.match(text, /Look at why katib-db in kubeflow is not ready/);

    // The alert's namespace, pod and container are what the model was told to look into.
    const told = JSON.stringify(api.requests[0]!.body.messages[0]!.content);
    for (const v of [namespace, name, container]) assert.ok(told.includes(v), `${v} reaches the model`);
    // The model was offered the allowed Kubernetes read tools and nothing that writes.
    const offered = api.requests[0]!.body.tools.map((t) => t.name);
    assert.ok(ALLOWED.every((t) => offered.includes(`kubernetes__${t}`)), offered.join(' '));
    assert.ok(!offered.some((n) => n.startsWith('kubernetes__') && !ALLOWED.includes(n.slice('kubernetes__'.length))));
    // What the tools returned is what the model read, as untrusted data.
    const resultOf = (req: number) => (api.requests[req]!.body.messages.at(-1)!.content as { content: string }[])[0]!.content;
    assert.match(resultOf(1), /^<untrusted-data source="tool:kubernetes__pods_log">/);
    assert.ok(resultOf(1).includes(LOG_LINE), resultOf(1));
    assert.match(resultOf(2), /Reason: BackOff/);
    assert.match(resultOf(2), /Message: Back-off restarting failed container/);

    const audited = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string; outcome: string; args: unknown });
    assert.deepEqual(audited.map((a) => [a.caller, a.tool, a.outcome]), [['triage', 'kubernetes__pods_log', 'ok'], ['triage', 'kubernetes__events_list', 'ok']]);
    assert.deepEqual(audited[0]!.args, { namespace, name, container, previous: true, tail: 50 });
    assert.deepEqual(calls.lines().filter((l) => l.startsWith('call ')).map((l) => l.split(' ')[1]), ['pods_log', 'events_list']);
  });
});
