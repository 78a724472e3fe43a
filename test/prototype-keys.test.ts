/**
 * Names that JavaScript objects inherit (`constructor`, `__proto__`, `toString`, `hasOwnProperty`)
 * are data like any other name when they come from outside: a severity word, a label or annotation
 * name, a fingerprint, a zpool group or vdev type, an event key or class, a value name, a config key.
 * None of them may be looked up through Object.prototype, nor be dropped.
 *
 * Inputs are real captures (test/helpers/fixtures.ts) with one name replaced by one of these keys: adversarial
 * variants written for this test, not captures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { normaliseSeverity } from '../src/connectors/identity.ts';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../src/connectors/alertmanager/webhook.ts';
import { parseZpoolStatusJson, parseZpoolStatusText } from '../src/connectors/zfs/parse.ts';
import { parseZpoolEvents } from '../src/connectors/zfs/parse-events.ts';
import { ZfsReader } from '../src/connectors/zfs/read.ts';
import { zfsTools } from '../src/connectors/zfs/tools.ts';
import { AlertmanagerApi } from '../src/connectors/alertmanager/api.ts';
import { alertmanagerTools } from '../src/connectors/alertmanager/tools.ts';
import { runTool } from '../src/tools/run.ts';
import { deltas, estimateText, rates } from '../src/rules/evaluate.ts';
import { numericValues } from '../src/rules/observation.ts';
import type { Rule } from '../src/rules/load.ts';
import type { CelContext } from '../src/rules/cel.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { FIRING_AM021 } from './helpers/payloads.ts';
import { startLab, type Lab } from './helpers/lab.ts';
import { closeServer, listenLoopback } from './helpers/loopback.ts';
import { createServer } from 'node:http';
import { readFixture } from './helpers/fixtures.ts';

const KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty'] as const;
const fixture = (path: string) => readFixture(...path.split('/'));
/** `{ [k]: v }` with k as an own key even when it is `__proto__`. */
const own = <T>(k: string, v: T): Record<string, T> => Object.fromEntries([[k, v]]);

type Alert = { labels: Record<string, string>; annotations: Record<string, string>; fingerprint?: string };
function am021(change: (a: Alert) => void): unknown {
  const p = JSON.parse(FIRING_AM021) as { alerts: Alert[] };
  change(p.alerts[0]!);
  return p;
}
const anomalyOf = (body: unknown) => alertsToAnomalies(parseAlertmanagerPayload(body))[0]!;

describe('severity words', () => {
  for (const k of KEYS) {
    test(`a severity label "${k}" is an unknown severity, which counts as warning`, () => {
      assert.equal(normaliseSeverity(k), 'warning');
      assert.equal(anomalyOf(am021((a) => (a.labels.severity = k))).severity, 'warning');
    });
  }
});

describe('Alertmanager webhook', () => {
  test('labels and annotations named like these keys are kept, with their values, as the store will see them', () => {
    const a = anomalyOf(
      am021((alert) => {
        for (const k of KEYS) {
          Object.defineProperty(alert.labels, k, { value: `label ${k}`, enumerable: true, writable: true, configurable: true });
          Object.defineProperty(alert.annotations, k, { value: `annotation ${k}`, enumerable: true, writable: true, configurable: true });
        }
      }),
    );
    const stored = JSON.parse(JSON.stringify(a)) as { labels: Record<string, string>; annotations: Record<string, string> };
    for (const k of KEYS) {
      assert.ok(Object.hasOwn(stored.labels, k), `label ${k} kept`);
      assert.equal(stored.labels[k], `label ${k}`);
      assert.ok(Object.hasOwn(stored.annotations, k), `annotation ${k} kept`);
      assert.equal(stored.annotations[k], `annotation ${k}`);
    }
    assert.equal(a.summary, 'This is a demo');
    assert.equal(a.host, 'ni3');
  });

  test('a label named __proto__ is part of the alert identity: two alerts differing only there stay apart', () => {
    const withProto = (v: string) => {
      const p = am021((alert) => delete alert.fingerprint) as { alerts: Alert[] };
      Object.defineProperty(p.alerts[0]!.labels, '__proto__', { value: v, enumerable: true, writable: true, configurable: true });
      return anomalyOf(p).fingerprint;
    };
    assert.notEqual(withProto('a'), withProto('b'));
  });

  for (const k of KEYS) {
    test(`a fingerprint "${k}" is replaced by one derived from the labels (a fingerprint is hex digits)`, () => {
      const a = anomalyOf(am021((alert) => (alert.fingerprint = k)));
      assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
      assert.equal(a.fingerprint, anomalyOf(am021((alert) => delete alert.fingerprint)).fingerprint);
    });
  }
});

describe('Alertmanager webhook over HTTP', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  test('alerts whose fingerprints and labels are these keys are stored as separate anomalies of one incident', async () => {
    const p = JSON.parse(FIRING_AM021) as { alerts: (Alert & Record<string, unknown>)[] };
    const a = p.alerts[0]!;
    p.alerts = KEYS.map((k) => ({ ...a, fingerprint: k, labels: { ...a.labels, ...own(k, 'x'), server: `srv-${k}` } }));
    const body = JSON.stringify(p);
    assert.match(body, /"__proto__":"x"/);
    const res = await lab.post(body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.anomalies, 4);
    const incident = await lab.daemon.store.getIncident((res.json.incidents as string[])[0]!);
    const states = Object.values(incident!.anomalies);
    assert.equal(states.length, 4);
    for (const k of KEYS) assert.ok(states.some((s) => Object.hasOwn(s.labels, k) && s.labels[k] === 'x'), `the alert with label ${k}`);
  });

  test('a __proto__ key outside the label sets changes nothing: the alert is read as sent', async () => {
    // Adversarial: the 0.21 body with a top-level and an alert-level "__proto__" object that would
    // supply a bad endsAt and another groupKey if it became the prototype of the parsed payload.
    const p = JSON.parse(FIRING_AM021) as { alerts: Record<string, unknown>[] };
    const body = JSON.stringify(p)
      .replace('{"receiver"', '{"__proto__":{"groupKey":"evil"},"receiver"')
      .replace('{"status":"firing","labels"', '{"__proto__":{"endsAt":"not-a-time","fingerprint":"__proto__"},"status":"firing","labels"');
    const res = await lab.post(body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const incident = await lab.daemon.store.getIncident((res.json.incidents as string[])[0]!);
    assert.equal(incident!.groupKey, 'alertmanager:{}:{alertname="DemoAlert"}');
    const alert = incident!.anomalies['8a07086b74f3ba78'];
    assert.ok(alert && Object.hasOwn(incident!.anomalies, '8a07086b74f3ba78'), 'the alert under its own fingerprint');
    assert.equal(alert.endsAt, undefined);
  });

  test('with __proto__ allowed in webhook bodies, a body that is not JSON, or empty, still gets its own 400', async () => {
    const bad = await lab.post('{"version": "4", "alerts": [');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /^body is not valid JSON/);
    const empty = await lab.post('');
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error, 'body is empty; expected a JSON payload');
  });
});

describe('zpool parsers', () => {
  const TEXT = fixture('zpool/status-degraded-mirror-unavail-corrupted-data.txt');
  for (const k of KEYS) {
    test(`a pool-level row "${k}" in the config table is not a vdev group`, () => {
      const withRow = TEXT.replace('\t  mirror-1', `\t${k}\n\t  mirror-1`);
      assert.notEqual(withRow, TEXT);
      const [pool] = parseZpoolStatusText(withRow);
      assert.deepEqual(Object.keys(pool!.groups), ['data']);
      assert.deepEqual(pool!.groups, parseZpoolStatusText(TEXT)[0]!.groups);
    });

    test(`a JSON vdev_type "${k}" is an unknown type: the kind comes from the name`, () => {
      const doc = JSON.parse(fixture('zpool/status-j-c-vendor-model-size-raidz-dedup-special-manpage.json')) as {
        pools: { tank: { vdevs: { tank: { vdevs: Record<string, { vdev_type: string }> } } } };
      };
      doc.pools.tank.vdevs.tank.vdevs['raidz1-0']!.vdev_type = k;
      const [pool] = parseZpoolStatusJson(JSON.stringify(doc));
      assert.equal(pool!.groups.data![0]!.name, 'raidz1-0');
      assert.equal(pool!.groups.data![0]!.kind, 'raidz');
    });

    test(`an event payload key "${k}" is kept as a field`, () => {
      const text = fixture('zpool/events-v-io-error-raidz.txt').replace('        pool_failmode = "wait"', `        ${k} = "wait"`);
      const [event] = parseZpoolEvents(text).events;
      assert.ok(Object.hasOwn(event!.fields, k), k);
      assert.equal(event!.fields[k], 'wait');
      assert.equal(event!.pool, 'zroot');
    });
  }

  test('events of a class named like these keys are counted per class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labwatch-zpool-keys-'));
    writeFileSync(join(dir, 'list.txt'), fixture('zpool/list-p-two-pools-degraded.txt'));
    // Adversarial: the real event line of events-v-io-error-raidz.txt with its class replaced.
    writeFileSync(join(dir, 'events.txt'), ['TIME                           CLASS', ...KEYS.flatMap((k) => [`Oct 10 2021 10:39:51.709234009 ${k}`, `Oct 10 2021 10:39:52.709234009 ${k}`])].join('\n') + '\n');
    const bin = fileURLToPath(new URL('bin/', import.meta.url));
    const path = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${path ?? ''}`;
    process.env.FAKE_ZPOOL_DIR = dir;
    try {
      const tool = zfsTools(new ZfsReader()).find((t) => t.name === 'zfs_pool_events')!;
      const r = await tool.run(z.strictObject(tool.input).parse({ pool: 'zroot' }) as never, AbortSignal.timeout(10_000));
      assert.equal(r.status, 'ok', r.text);
      assert.deepEqual(r.data!.perClass, Object.fromEntries(KEYS.map((k) => [k, 2])));
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('Alertmanager alerts tool', () => {
  for (const k of KEYS) {
    test(`an alert with severity "${k}" sorts as an unknown severity: after critical, before info`, async () => {
      // The real 0.25 answer's active alert (NodeDown), three times with other severities and start times.
      const [, active] = JSON.parse(fixture('alertmanager/api-v2-alerts-silenced-and-active-am0.25.json')) as Record<string, unknown>[];
      const copy = (severity: string, startsAt: string, alertname: string) => ({ ...active, startsAt, fingerprint: alertname, labels: { ...(active!.labels as object), alertname, severity } });
      const answer = JSON.stringify([copy('info', '2026-11-24T19:56:00.000Z', 'Info'), copy(k, '2026-11-24T19:55:00.000Z', 'Odd'), copy('critical', '2026-11-24T19:50:00.000Z', 'Crit')]);
      const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
      const url = await listenLoopback(server);
      try {
        const tools = alertmanagerTools(new AlertmanagerApi({ url, timeoutMs: 2000 }), { writeTools: [], now: () => new Date('2026-11-24T20:00:00.000Z') });
        const r = await runTool(tools.find((t) => t.name === 'alertmanager_alerts')!, {}, { record: async () => {} }, { caller: 'cli' });
        assert.equal(r.status, 'ok', r.text);
        assert.deepEqual((r.data!.alerts as { alertname: string }[]).map((a) => a.alertname), ['Crit', 'Odd', 'Info']);
      } finally {
        await closeServer(server);
      }
    });
  }
});

describe('rule values', () => {
  const ctx = (values: Record<string, unknown>, rate: Record<string, number>): CelContext => ({ values, prev: {}, delta: {}, rate, subject: 'disk:X', host: 'nas', now: new Date('2026-11-24T20:00:00Z') });
  for (const k of KEYS) {
    test(`a value named "${k}" is kept, and changes only against a previous "${k}"`, () => {
      assert.deepEqual(numericValues(own(k, 5)), own(k, 5));
      assert.deepEqual(deltas(own(k, 5), {}), {});
      assert.deepEqual(deltas(own(k, 5), own(k, 3)), own(k, 2));
      assert.deepEqual(rates([{ at: '2026-11-23T20:00:00Z', values: {} }], { at: '2026-11-24T20:00:00Z', values: own(k, 5) }), {});
      assert.deepEqual(rates([{ at: '2026-11-23T20:00:00Z', values: own(k, 3) }], { at: '2026-11-24T20:00:00Z', values: own(k, 5) }), own(k, 2));
    });

    test(`an estimate on a series "${k}" without a rate says nothing (and does not throw)`, () => {
      const rule = { estimate: { series: k, threshold: 16 } } as unknown as Rule;
      assert.equal(estimateText(rule, ctx(own(k, 5), {})), undefined);
      assert.match(estimateText(rule, ctx(own(k, 5), own(k, 2)))!, /grows by 2\/day/);
    });
  }
});

describe('config keys', () => {
  for (const k of ['constructor', 'toString', 'hasOwnProperty']) {
    test(`an unknown config key "${k}" is reported as unknown, with no hint made of Object's members`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'labwatch-config-keys-'));
      const file = join(dir, 'labwatch.yaml');
      writeFileSync(file, `redis:\n  url: redis://127.0.0.1:6379\n  ${k}: 1\n`);
      try {
        loadConfig(file, {});
        assert.fail('the config was accepted');
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        const text = e.problems.join('\n');
        assert.match(text, new RegExp(`unknown key ${k}`));
        assert.doesNotMatch(text, /native code|secrets are not read inline/);
      }
    });
  }
});
