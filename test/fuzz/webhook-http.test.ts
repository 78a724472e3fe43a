/**
 * Bad webhook bodies through the real HTTP path: the real daemon (test/helpers/lab.ts: real
 * config file, real Redis under a private prefix) answers every body an Alertmanager or anyone
 * else can POST with 200, 400, 413 or 415 — never 500, which Alertmanager would retry forever —
 * stays up, and leaves Object.prototype alone. Bodies are the real Alertmanager captures, damaged
 * by test/fuzz/mutate.ts; LABWATCH_FUZZ_RUNS sets how many (a quarter of it here: each is a request).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { LIMITS } from '../../src/connectors/limits.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { deepJson, withInvalidUtf8 } from './mutate.ts';
import { runs, show } from './oracle.ts';
import { parserTargets } from './targets.ts';

const PROTO_BEFORE = Object.getOwnPropertyNames(Object.prototype).join(',');

describe('bad webhook bodies over HTTP', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ channels: [] });
  });
  after(async () => {
    await lab.stop();
  });

  async function post(body: string | Buffer, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${lab.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Authorization: `Bearer ${SECRETS.httpToken}` },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await res.text();
    try {
      return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return { status: res.status, json: { text } };
    }
  }

  /** The daemon still takes a good delivery and stores it. */
  async function stillAlive(): Promise<void> {
    const res = await post(FIRING_AM021);
    assert.equal(res.status, 200, JSON.stringify(res.json));
  }

  test('10,000- and 100,000-deep JSON arrays and objects get a 400 that says what is wrong, and the daemon stays up', async () => {
    for (const body of [...deepJson(10_000), ...deepJson(100_000)]) {
      const res = await post(body);
      assert.equal(res.status, 400, `${show(body)} → ${res.status} ${JSON.stringify(res.json)}`);
      assert.match(String(res.json.error), /^(body: expected a JSON object|invalid Alertmanager payload: )/);
    }
    await stillAlive();
  });

  test('a body over http.body_limit_bytes gets 413 naming the limit and what to lower', async () => {
    const limit = lab.config.http.body_limit_bytes;
    const p = JSON.parse(FIRING_AM021) as { alerts: { annotations: Record<string, string> }[] };
    p.alerts[0]!.annotations.description = 'x'.repeat(limit);
    const res = await post(JSON.stringify(p));
    assert.equal(res.status, 413);
    assert.match(String(res.json.error), new RegExp(`body is larger than ${limit} bytes`));
    assert.match(JSON.stringify(res.json), /max_alerts/);
    await stillAlive();
  });

  test('bytes that are not UTF-8 are never a 500: inside a string they are data, elsewhere a 400', async () => {
    const good = Buffer.from(FIRING_AM021, 'utf8');
    const at = good.indexOf('This is a demo') + 4;
    const inString = Buffer.concat([good.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), good.subarray(at)]);
    const res = await post(inString);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const incident = await lab.daemon.store.getIncident((res.json.incidents as string[])[0]!);
    assert.match(incident!.anomalies['8a07086b74f3ba78']!.summary, /^This\uFFFD+ is a demo$/);
    const outside = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xff]), good]);
    assert.equal((await post(outside)).status, 400);
  });

  test('__proto__ keys in labels are stored as data; Object.prototype is untouched', async () => {
    const body = FIRING_AM021.replace('"labels":{"alertname":"DemoAlert"', '"labels":{"__proto__":"x","constructor":"y","alertname":"DemoAlert"');
    assert.notEqual(body, FIRING_AM021);
    const res = await post(body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const incident = await lab.daemon.store.getIncident((res.json.incidents as string[])[0]!);
    const stored = Object.values(incident!.anomalies).find((a) => Object.hasOwn(a.labels, '__proto__'));
    assert.ok(stored, 'an anomaly with its own __proto__ label');
    assert.equal(stored.labels.__proto__, 'x');
    assert.equal(Object.getPrototypeOf(stored.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyNames(Object.prototype).join(','), PROTO_BEFORE);
  });

  test('a 1 MB label value is cut to 4 KiB with a marker, and the alert is taken (200)', async () => {
    const p = JSON.parse(FIRING_AM021) as { alerts: { labels: Record<string, string>; fingerprint?: string }[] };
    p.alerts[0]!.labels.server = 's'.repeat(1_000_000);
    const res = await post(JSON.stringify(p));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const incident = await lab.daemon.store.getIncident((res.json.incidents as string[])[0]!);
    const server = incident!.anomalies[p.alerts[0]!.fingerprint!]!.labels.server!;
    assert.ok(Buffer.byteLength(server.replace(/…\[truncated \d+ bytes\]$/, '')) <= LIMITS.labelValueBytes, `${server.length} characters kept`);
    assert.match(server, /…\[truncated 995904 bytes\]$/);
  });

  test('damaged Alertmanager bodies: every answer is 200, 400, 413 or 415, and after a 200 every firing alert is in an incident', async () => {
    const webhook = parserTargets().find((t) => t.name === 'Alertmanager webhook')!;
    const body = fc.oneof(
      { weight: 8, arbitrary: webhook.inputs.map((s) => ({ body: s as string | Buffer, type: 'application/json' })) },
      { weight: 1, arbitrary: fc.tuple(webhook.inputs, fc.nat(), fc.nat()).map(([s, a, w]) => ({ body: withInvalidUtf8(s, a, w) as string | Buffer, type: 'application/json' })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(FIRING_AM021), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '')).map(([b, type]) => ({ body: b as string | Buffer, type })) },
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ body: b, type }) => {
        const res = await post(b, type);
        assert.ok([200, 400, 413, 415].includes(res.status), `${res.status} ${JSON.stringify(res.json).slice(0, 300)} for ${show(b)}`);
        if (res.status !== 200) {
          assert.ok(typeof res.json.error === 'string' && res.json.error.length > 0, `a ${res.status} without words: ${JSON.stringify(res.json)}`);
          return;
        }
        const firing = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(String(b)))).filter((a) => a.status === 'firing');
        const incidents = await Promise.all((res.json.incidents as string[]).map((id) => lab.daemon.store.getIncident(id)));
        for (const a of firing) assert.ok(incidents.some((i) => i && Object.hasOwn(i.anomalies, a.fingerprint)), `firing alert ${a.fingerprint} is in none of ${JSON.stringify(res.json.incidents)}`);
        assert.equal(Object.getOwnPropertyNames(Object.prototype).join(','), PROTO_BEFORE);
      }),
      { numRuns: runs(0.25) },
    );
    await stillAlive();
  });
});
