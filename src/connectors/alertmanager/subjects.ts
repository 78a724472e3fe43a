/**
 * An alert's subject in labwatch's words, when its labels name a thing a collector also watches:
 * then the alert and the collector's anomaly share one lab group, so one problem is one incident.
 *
 * The label names are those of the exporters and rule sets homelabs run:
 * - filesystems: node_exporter's `mountpoint` (node-mixin's NodeFilesystemAlmostOutOfSpace /
 *   NodeFilesystemSpaceFillingUp, awesome-prometheus-alerts' HostOutOfDiskSpace), as the host
 *   collector's `fs:<mount>`;
 * - pools: node_exporter's `zpool` (awesome-prometheus-alerts' ZfsOfflinePool:
 *   `node_zfs_zpool_state{state!="online"} > 0`) or zfs_exporter's `pool` (zfs_pool_* metrics), as
 *   the zfs collector's `pool:<name>`;
 * - scrape targets: `up == 0` alerts (Prometheus' InstanceDown example, awesome-prometheus-alerts'
 *   PrometheusTargetMissing) with `job` and `instance`, as the shipped `prometheus-target-down`
 *   rule's `target:<job>/<instance>` on the instance's host;
 * - Kubernetes pods: kube-state-metrics' `namespace` and `pod` (kube-prometheus' KubePodCrashLooping,
 *   KubePodNotReady…), as `pod:<namespace>/<pod>` on the cluster (its `cluster` label, else
 *   "kubernetes"): the alert is about the pod, not the exporter's `instance`, which is the
 *   kube-state-metrics pod's own address.
 */
import { hostOfInstance } from '../identity.ts';
import type { Anomaly } from '../types.ts';

/** Where an alert joins labwatch's incidents, and the first steps for the thing it names. */
export interface LabSubject {
  host: string;
  subject: string;
  actions?: NonNullable<Anomaly['actions']>;
}

/** Alert names that mean "Prometheus cannot scrape this target" whatever their expression. */
const TARGET_DOWN_ALERTS = new Set(['InstanceDown', 'TargetDown', 'PrometheusTargetMissing']);
/** `up == 0`, `up{job="node"} < 1`: the expression of a target-down alert. */
const UP_IS_ZERO = /^\(?\s*up\s*(\{[^}]*\})?\s*\)?\s*(==\s*0|<\s*1)\s*$/;

/** The PromQL expression of Prometheus' generatorURL (`…/graph?g0.expr=…`), or ''. */
function exprOf(generatorURL: string | undefined): string {
  if (!generatorURL) return '';
  try {
    return new URL(generatorURL).searchParams.get('g0.expr') ?? '';
  } catch {
    return '';
  }
}

const own = (labels: Record<string, string>, k: string): string | undefined => (Object.hasOwn(labels, k) && labels[k] ? labels[k] : undefined);

/**
 * The lab subject (and the host it is on) the alert is about, or undefined to keep Alertmanager's
 * own grouping. The host is the `instance`'s, as the PromQL collector names it; `labelHost` (the
 * alert's `host`, `hostname`… label) only when there is no instance.
 */
export function labSubjectOfAlert(labels: Record<string, string>, labelHost: string, generatorURL: string | undefined): LabSubject | undefined {
  const alertname = own(labels, 'alertname') ?? '';
  // Parsed only for an alert that could be one of these (a URL parse per alert adds up in a storm).
  const expr = () => exprOf(generatorURL);
  const namespace = own(labels, 'namespace');
  const podName = own(labels, 'pod');
  if (namespace && podName && own(labels, 'job') === 'kube-state-metrics') {
    const container = own(labels, 'container');
    return {
      host: own(labels, 'cluster') ?? 'kubernetes',
      subject: `pod:${namespace}/${podName}`,
      actions: [{ text: `See why it restarts: kubectl -n ${namespace} describe pod ${podName} (its events), then kubectl -n ${namespace} logs ${podName} --previous${container ? ` -c ${container}` : ''}`, urgency: 'soon' }],
    };
  }
  const instance = own(labels, 'instance');
  const host = hostOfInstance(instance) ?? labelHost;
  if (!host) return undefined;
  const zfs = () => /zfs|zpool/i.test(alertname) || /zfs_/.test(expr());
  const pool = own(labels, 'zpool') ?? (own(labels, 'pool') && zfs() ? own(labels, 'pool') : undefined);
  if (pool)
    return { host, subject: `pool:${pool}`, actions: [{ text: `Read ZFS's own diagnosis on ${host}: zpool status -xv ${pool}, and follow its action line`, urgency: 'now' }] };
  const mount = own(labels, 'mountpoint');
  if (mount)
    return { host, subject: `fs:${mount}`, actions: [{ text: `Find what fills ${mount} on ${host} (du -xh ${mount} | sort -h | tail) and free space, or grow the filesystem`, urgency: 'soon' }] };
  const job = own(labels, 'job');
  if (job && instance && (TARGET_DOWN_ALERTS.has(alertname) || UP_IS_ZERO.test(expr().trim())))
    return {
      host,
      subject: `target:${job}/${instance}`,
      actions: [
        { text: `Check that the exporter at ${instance} (job ${job}) is running and answers: curl -s http://${instance}/metrics | head; start it if it stopped`, urgency: 'now' },
        { text: `If it answers there, check what stands between Prometheus and ${instance}: firewall, DNS, the scrape config of job ${job}`, urgency: 'soon' },
      ],
    };
  return undefined;
}
