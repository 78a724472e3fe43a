/**
 * Alerts about a filesystem, a pool or a dead scrape target are grouped under labwatch's own
 * subject on the host they name; every other alert keeps Alertmanager's grouping. Labels as the
 * widely used rules set them (node-mixin, awesome-prometheus-alerts; see subjects.ts), in the real
 * Alertmanager 0.21 body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../../src/connectors/alertmanager/webhook.ts';
import { readFixture } from '../../helpers/fixtures.ts';
import { FIRING_AM021 } from '../../helpers/payloads.ts';

/** The real 0.21 body with the alert's labels and generatorURL expression replaced. */
function alertOf(labels: Record<string, string>, expr = 'sum(prometheus_build_info) < 3') {
  const p = JSON.parse(FIRING_AM021) as { alerts: Record<string, unknown>[] };
  p.alerts[0]!.labels = labels;
  p.alerts[0]!.generatorURL = `http://prometheus.lab:9090/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
  const [a] = alertsToAnomalies(parseAlertmanagerPayload(p));
  return { host: a!.host, subject: a!.subject, groupKey: a!.groupKey };
}

test("node_exporter's filesystem alerts (mountpoint) are about fs:<mount> on the instance's host", () => {
  const labels = { alertname: 'NodeFilesystemAlmostOutOfSpace', device: '/dev/sda1', fstype: 'ext4', instance: 'nas:9100', job: 'node', mountpoint: '/srv', severity: 'warning' };
  assert.deepEqual(alertOf(labels), { host: 'nas', subject: 'fs:/srv', groupKey: 'watch:nas|fs:/srv' });
});

test("a pool: node_exporter's zpool label, or zfs_exporter's pool label on a ZFS alert; a pool label elsewhere (Ceph) is not a zpool", () => {
  assert.deepEqual(alertOf({ alertname: 'ZfsOfflinePool', instance: 'nas:9100', job: 'node', state: 'degraded', zpool: 'tank' }, 'node_zfs_zpool_state{state!="online"} > 0'), {
    host: 'nas', subject: 'pool:tank', groupKey: 'watch:nas|pool:tank',
  });
  assert.deepEqual(alertOf({ alertname: 'PoolAlmostFull', instance: 'nas:9134', job: 'zfs', pool: 'tank' }, 'zfs_pool_free_bytes * 100 / zfs_pool_size_bytes < 10'), {
    host: 'nas', subject: 'pool:tank', groupKey: 'watch:nas|pool:tank',
  });
  const ceph = alertOf({ alertname: 'CephPoolNearFull', instance: 'ceph1:9283', job: 'ceph', pool: 'rbd' }, 'ceph_pool_percent_used > 0.85');
  assert.equal(ceph.subject, 'ceph1:9283');
  assert.equal(ceph.groupKey, 'alertmanager:{}:{alertname="DemoAlert"}');
});

test("a dead scrape target (up == 0, or a target-down alert's name) is the shipped rule's target:<job>/<instance> on the instance's host", () => {
  assert.deepEqual(alertOf({ alertname: 'InstanceDown', instance: '[fd00::2]:9100', job: 'node' }, 'up == 0'), {
    host: 'fd00::2', subject: 'target:node/[fd00::2]:9100', groupKey: 'watch:fd00::2|target:node/[fd00::2]:9100',
  });
  assert.equal(alertOf({ alertname: 'ExporterGone', instance: 'printer:9100', job: 'node', host: 'printer.lan' }, 'up{job="node"} < 1').groupKey, 'watch:printer|target:node/printer:9100');
  assert.equal(alertOf({ alertname: 'PrometheusTargetMissing', instance: 'printer:9100', job: 'node' }).subject, 'target:node/printer:9100');
});

test("other alerts keep Alertmanager's grouping: kube-prometheus' TargetDown (per job, no instance), a load alert with job and instance", () => {
  const targetDown = alertOf({ alertname: 'TargetDown', job: 'kubelet', namespace: 'kube-system', service: 'kubelet' }, '100 * (count by (job, namespace, service) (up == 0) / count by (job, namespace, service) (up)) > 10');
  assert.equal(targetDown.groupKey, 'alertmanager:{}:{alertname="DemoAlert"}');
  const load = alertOf({ alertname: 'HostHighCpuLoad', instance: 'nas:9100', job: 'node' }, 'sum by (instance) (avg by (mode, instance) (rate(node_cpu_seconds_total{mode!="idle"}[2m]))) > 0.8');
  assert.deepEqual(load, { host: 'nas', subject: 'nas:9100', groupKey: 'alertmanager:{}:{alertname="DemoAlert"}' });
});

test("the host is the instance's (as the PromQL rules name it) even when a host label says more; a host label alone serves without an instance", () => {
  assert.equal(alertOf({ alertname: 'HostOutOfDiskSpace', instance: 'nas:9100', host: 'nas.lan', mountpoint: '/' }).groupKey, 'watch:nas|fs:/');
  assert.equal(alertOf({ alertname: 'DiskAlmostFull', hostname: 'nas', mountpoint: '/' }).groupKey, 'watch:nas|fs:/');
});

test('an alert about a thing labwatch knows carries its first steps while it fires; other alerts and resolutions carry none', () => {
  const real = readFixture('alertmanager', 'webhook-v4-prometheus-target-missing-firing-am0.25.json');
  const [down] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(real)));
  assert.equal(down!.subject, 'target:nas-node/127.0.0.1:19100');
  assert.deepEqual(down!.actions?.map((a) => a.urgency), ['now', 'soon']);
  assert.match(down!.actions![0]!.text, /exporter at 127\.0\.0\.1:19100 \(job nas-node\) is running .*curl -s http:\/\/127\.0\.0\.1:19100\/metrics/);
  const [back] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(readFixture('alertmanager', 'webhook-v4-prometheus-target-missing-resolved-am0.25.json'))));
  assert.equal(back!.status, 'resolved');
  assert.equal(back!.actions, undefined);
  const [other] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021)));
  assert.equal(other!.actions, undefined, 'an alert labwatch cannot place keeps its own words only');
});

test("kube-state-metrics' pod alerts (kube-prometheus' KubePodCrashLooping) are about the pod on the cluster, not the exporter's own address", () => {
  // the labels kube-prometheus-stack delivers (AndreiGavriliu/homelab#4480), as in test/fixtures-derived/kubernetes
  const labels = { alertname: 'KubePodCrashLooping', container: 'katib-manager', endpoint: 'http', instance: '10.42.0.16:8080', job: 'kube-state-metrics', namespace: 'kubeflow', pod: 'katib-manager-6d9c5b7f8-x4lqz', reason: 'CrashLoopBackOff', service: 'kube-prometheus-stack-kube-state-metrics', severity: 'warning' };
  assert.deepEqual(alertOf(labels), { host: 'kubernetes', subject: 'pod:kubeflow/katib-manager-6d9c5b7f8-x4lqz', groupKey: 'watch:kubernetes|pod:kubeflow/katib-manager-6d9c5b7f8-x4lqz' });
  assert.equal(alertOf({ ...labels, cluster: 'homelab' }).host, 'homelab');
  // a pod label from another exporter keeps Alertmanager's grouping
  assert.equal(alertOf({ alertname: 'HighLatency', job: 'app', namespace: 'web', pod: 'api-1', instance: '10.42.0.9:8080' }).subject, '10.42.0.9:8080');
});
