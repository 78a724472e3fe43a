/** Real Alertmanager payloads from ../shared/fixtures/alertmanager (see its SOURCES.md), and the one derived variant. */
import { readFixture } from './fixtures.ts';

const fixtureText = (name: string) => readFixture('alertmanager', name);

/** Alertmanager 0.21's raw body: one firing critical alert "DemoAlert" on server ni3. */
export const FIRING_AM021 = fixtureText('webhook-v4-firing-single-am0.21-raw-body.json');

/** Alertmanager ~0.9: one group, one firing and one resolved alert, no fingerprints. */
export const MIXED_AM09 = fixtureText('webhook-v4-group-firing-plus-resolved-am0.9.json');

/**
 * The resolution Alertmanager sends after FIRING_AM021, derived from it (no real capture exists):
 * only `status` (group and alert) and `endsAt` change, as Alertmanager changes them.
 */
export function resolvedOf(firingBody: string, endsAt = '2021-01-07T09:10:00.032813093Z'): string {
  const p = JSON.parse(firingBody) as { status: string; alerts: { status: string; endsAt: string }[] };
  p.status = 'resolved';
  for (const a of p.alerts) {
    a.status = 'resolved';
    a.endsAt = endsAt;
  }
  return JSON.stringify(p) + '\n';
}

/**
 * Alert `i` of the storm, derived from the real Alertmanager 0.21 body: only the labels, the
 * fingerprint and the summary differ per alert; the group key is the fixture's.
 */
export function stormAlert(i: number, status: 'firing' | 'resolved' = 'firing'): Record<string, unknown> {
  const alert = (JSON.parse(FIRING_AM021) as { alerts: Record<string, unknown>[] }).alerts[0]!;
  return {
    ...alert,
    status,
    labels: { alertname: 'DemoAlert', server: `nfs-client-${String(i).padStart(4, '0')}`, severity: 'critical' },
    annotations: { summary: `NFS mount stale on nfs-client-${String(i).padStart(4, '0')}` },
    fingerprint: (0x1000000000000 + i).toString(16),
    ...(status === 'resolved' ? { endsAt: '2021-01-07T09:10:00Z' } : {}),
  };
}

export function stormBody(alerts: Record<string, unknown>[]): string {
  const p = JSON.parse(FIRING_AM021) as Record<string, unknown>;
  return JSON.stringify({ ...p, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved', alerts });
}
