/**
 * One problem, one incident, whoever reports it: an Alertmanager alert about a filesystem, a pool
 * or a dead scrape target joins the incident labwatch's own collector opened for the same thing
 * on the same host. The real daemon (Redis, rules, intake); the observations come from the real
 * collectors' code, fed through the rules and into the intake as the watcher does. The alerts are
 * the real Alertmanager 0.21 body with the labels of widely used rules (node-mixin's
 * NodeFilesystemAlmostOutOfSpace, awesome-prometheus-alerts' ZfsOfflinePool and
 * PrometheusTargetMissing); see src/connectors/alertmanager/subjects.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostCollector } from '../../src/connectors/host/collect.ts';
import type { HostState } from '../../src/connectors/host/read.ts';
import { poolObservations } from '../../src/connectors/zfs/collect.ts';
import { parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import { prometheusCollector } from '../../src/connectors/prometheus/collect.ts';
import type { PrometheusClient } from '../../src/connectors/prometheus/client.ts';
import type { Observation } from '../../src/connectors/types.ts';
import type { Incident } from '../../src/incidents/types.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';
import { readFixture } from '../helpers/fixtures.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

/** The real 0.21 body with one alert's labels, generatorURL and group key replaced (all else as sent). */
function alertBody(labels: Record<string, string>, expr: string, summary: string): string {
  const p = JSON.parse(FIRING_AM021) as { alerts: Record<string, unknown>[]; groupKey: string; groupLabels: unknown; commonLabels: unknown; commonAnnotations: unknown };
  const alert = p.alerts[0]!;
  alert.labels = labels;
  alert.annotations = { summary };
  alert.generatorURL = `http://prometheus.lab:9090/graph?g0.expr=${encodeURIComponent(expr).replace(/%20/g, '+')}&g0.tab=1`;
  alert.fingerprint = labels.alertname === 'ZfsOfflinePool' ? '3b1f0c2a9d8e7f61' : labels.alertname === 'PrometheusTargetMissing' ? '5c2e9a1b0d4f8e73' : '7d4a2b9c1e0f6a85';
  p.groupKey = `{}:{alertname="${labels.alertname}"}`;
  p.groupLabels = { alertname: labels.alertname };
  p.commonLabels = labels;
  p.commonAnnotations = { summary };
  return JSON.stringify(p);
}

describe('one problem reported by Alertmanager and by a collector', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.stop();
  });

  /** The rules engine, then the intake, as the watcher runs them for a collector. */
  const observe = async (obs: Observation[], now: Date) => {
    const { anomalies } = await lab.daemon.rules.observe(obs, { now });
    if (anomalies.length) await lab.daemon.intake.accept(anomalies, { grouped: true });
    return anomalies;
  };
  const about = async (host: string, subject: string): Promise<Incident[]> =>
    (await lab.daemon.store.listRecent(100)).filter((i) => i.status === 'firing' && Object.values(i.anomalies).some((a) => a.host === host && a.subject === subject));
  const sources = (i: Incident) => [...new Set(Object.values(i.anomalies).map((a) => a.source))].sort();

  test("node_exporter's NodeFilesystemAlmostOutOfSpace and the host collector's full /srv on nas: one incident", async () => {
    const state: HostState = {
      filesystems: [{ mount: '/srv', device: '/dev/sda1', type: 'ext4', sizeBytes: 1_000_000_000_000, usedBytes: 970_000_000_000, availableBytes: 30_000_000_000, usedPct: 97, readOnly: false }],
      memory: { totalBytes: 16e9, availableBytes: 8e9, usedPct: 50, swapTotalBytes: 0, swapUsedPct: 0 },
      cpu: { cores: 4, load1: 0.2, load5: 0.2, load15: 0.2 },
      interfaces: [],
    };
    const host = hostCollector({ host: 'nas', mtuGroups: [], read: async () => state });
    const t0 = Date.now();
    await observe(await host.collect(AbortSignal.timeout(5000)), new Date(t0));
    const fired = await observe(await host.collect(AbortSignal.timeout(5000)), new Date(t0 + 60_000));
    assert.ok(fired.some((a) => a.rule === 'host-filesystem-full' && a.subject === 'fs:/srv'), 'the host rule fires for /srv');
    const [ours] = await about('nas', 'fs:/srv');
    assert.ok(ours);

    const labels = { alertname: 'NodeFilesystemAlmostOutOfSpace', device: '/dev/sda1', fstype: 'ext4', instance: 'nas:9100', job: 'node', mountpoint: '/srv', severity: 'warning' };
    const expr = '(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 5 and node_filesystem_readonly{job="node",fstype!=""} == 0)';
    assert.equal((await lab.post(alertBody(labels, expr, 'Filesystem has less than 5% space left.'))).status, 200);
    await waitFor('the alert to join the filesystem incident', async () => {
      const i = await lab.daemon.store.getIncident(ours.id);
      return i && sources(i).includes('alertmanager');
    });
    const all = await about('nas', 'fs:/srv');
    assert.deepEqual(all.map((i) => i.id), [ours.id], 'one incident about /srv on nas');
    assert.deepEqual(sources(all[0]!), ['alertmanager', 'host']);
  });

  test("ZfsOfflinePool (node_exporter's zpool label) and the zfs collector's degraded pool: one incident, whichever comes first", async () => {
    const labels = { alertname: 'ZfsOfflinePool', instance: 'nas:9100', job: 'node', severity: 'critical', state: 'degraded', zpool: 'dummy' };
    assert.equal((await lab.post(alertBody(labels, 'node_zfs_zpool_state{state!="online"} > 0', 'ZFS offline pool (instance nas:9100)'))).status, 200);
    const [alerted] = await waitFor('the alert incident', async () => {
      const found = await about('nas', 'pool:dummy');
      return found.length ? found : undefined;
    });

    const [pool] = parseZpoolStatusText(readFixture('zpool', 'status-degraded-removed-device.txt'));
    assert.equal(pool?.name, 'dummy');
    const fired = await observe(poolObservations({ health: pool! }, 'nas'), new Date());
    assert.ok(fired.some((a) => a.source === 'zfs'), 'the zfs rules fire for the degraded pool');
    await lab.drained();
    const all = (await lab.daemon.store.listRecent(100)).filter((i) => i.status === 'firing' && Object.values(i.anomalies).some((a) => a.host === 'nas' && (a.subject === 'pool:dummy' || a.subject.startsWith('vdev:dummy/'))));
    assert.deepEqual(all.map((i) => i.id), [alerted!.id], 'one incident about pool dummy on nas');
    assert.deepEqual(sources(all[0]!), ['alertmanager', 'zfs']);
  });

  test("PrometheusTargetMissing (up == 0) and the shipped prometheus-target-down rule: one incident", async () => {
    const series = { __name__: 'up', instance: 'printer:9100', job: 'node' };
    const client = { query: async () => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: series, value: [Date.now() / 1000, '0'] }] } }) } as unknown as PrometheusClient;
    const prom = prometheusCollector({ host: 'labwatch-host', client, rules: () => lab.daemon.rules.rules.rules });
    const t0 = Date.now();
    await observe(await prom.collect(AbortSignal.timeout(5000)), new Date(t0));
    const fired = await observe(await prom.collect(AbortSignal.timeout(5000)), new Date(t0 + 60_000));
    const down = fired.find((a) => a.rule === 'prometheus-target-down');
    assert.ok(down, 'the shipped rule fires after two runs');
    assert.equal(down.subject, 'target:node/printer:9100');

    const labels = { alertname: 'PrometheusTargetMissing', instance: 'printer:9100', job: 'node', severity: 'critical' };
    assert.equal((await lab.post(alertBody(labels, 'up == 0', 'Prometheus target missing (instance printer:9100)'))).status, 200);
    const [ours] = await about('printer', down.subject);
    assert.ok(ours);
    await waitFor('the alert to join the target incident', async () => {
      const i = await lab.daemon.store.getIncident(ours.id);
      return i && sources(i).includes('alertmanager');
    });
    const all = await about('printer', down.subject);
    assert.deepEqual(all.map((i) => i.id), [ours.id], 'one incident about the dead target');
    assert.deepEqual(sources(all[0]!), ['alertmanager', 'prometheus']);
  });
});
