/**
 * ZFS's own diagnosis reaches the report, and nothing zpool did not say is claimed: real
 * `zpool status` captures → observations → the shipped zfs rules (evaluated in memory), checking
 * what a person reads: the summary, the description and the actions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { poolObservations } from '../../../src/connectors/zfs/collect.ts';
import { zfsMessage } from '../../../src/connectors/zfs/messages.ts';
import { parseZpoolStatusJson, parseZpoolStatusText } from '../../../src/connectors/zfs/parse.ts';
import type { Anomaly, Observation } from '../../../src/connectors/types.ts';
import { contextFor, evaluateRule, rulesFor } from '../../../src/rules/evaluate.ts';
import { loadRules } from '../../../src/rules/load.ts';
import { readFixture, sharedFixture } from '../../helpers/fixtures.ts';

const { rules } = loadRules(fileURLToPath(new URL('../../../rules/zfs.yaml', import.meta.url)));
const NOW = new Date('2026-11-01T00:00:00Z');

function observe(file: string): Observation[] {
  const pools = parseZpoolStatusText(readFixture('zpool', file));
  assert.equal(pools.length, 1, `${file} holds one pool`);
  return poolObservations({ health: pools[0]! }, 'nas', NOW);
}

/** The anomalies the shipped zfs rules raise for these observations, first poll. */
function raised(obs: Observation[]): Anomaly[] {
  return obs.flatMap((o) =>
    rulesFor(rules, o).flatMap((r) => {
      const out = evaluateRule(r, o, contextFor(o, undefined, [], NOW), undefined);
      assert.notEqual(out.verdict, 'error', `${r.id} on ${o.subject}: ${out.error}`);
      return out.anomaly ? [out.anomaly] : [];
    }),
  );
}

const pool = (obs: Observation[]) => obs.find((o) => o.kind === 'pool')!;
const rule = (as: Anomaly[], id: string) => as.find((a) => a.rule === id);
const actionsOf = (a: Anomaly | undefined) => (a?.actions ?? []).map((x) => x.text).join('\n');

test("status:, action: and see: lines reach the pool observation, with the message id's meaning", () => {
  const obs = observe('status-scrub-with-1-error-data-corruption-nonroot.txt');
  const v = pool(obs).values;
  assert.match(String(v.status), /^One or more devices has experienced an error resulting in data corruption\./);
  assert.match(String(v.action), /^Restore the file in question if possible\./);
  assert.equal(v.see, 'http://zfsonlinux.org/msg/ZFS-8000-8A');
  assert.equal(v.msgid, 'ZFS-8000-8A');
  assert.match(String(v.msg_meaning), /could not be repaired/);
});

test('the JSON form carries status, action and the message id too', () => {
  // Derived: the man-page `zpool status -j` capture with the fields status_callback_json() adds
  // for a pool with a problem (status/action text as the text form prints it, msgid), see SOURCES.md.
  const doc = JSON.parse(readFileSync(sharedFixture('zpool', 'status-j-c-vendor-model-size-raidz-dedup-special-manpage.json'), 'utf8'));
  Object.assign(doc.pools.tank, {
    state: 'SUSPENDED',
    status: 'One or more devices are faulted in response to IO failures.\n',
    action: "Make sure the affected devices are connected, then run 'zpool clear'.\n",
    msgid: 'ZFS-8000-HC',
  });
  const [p] = parseZpoolStatusJson(JSON.stringify(doc));
  assert.equal(p!.status, 'One or more devices are faulted in response to IO failures.');
  assert.equal(p!.action, "Make sure the affected devices are connected, then run 'zpool clear'.");
  assert.equal(p!.msgid, 'ZFS-8000-HC');
  assert.equal(p!.see, 'https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-HC');
  const as = raised(poolObservations({ health: p! }, 'nas', NOW));
  const down = rule(as, 'zfs-pool-not-online')!;
  assert.match(down.summary, /pool tank is SUSPENDED, pool I\/O is currently suspended/);
  // the raidz is whole: redundancy is not what is missing, the devices' path is
  assert.match(actionsOf(down), /Bring the failed devices back first: while I\/O is suspended nothing on tank can be read/);
});

test('every message id zpool status prints has a meaning and an action', () => {
  // libzfs_status.c's table, plus the fault-manager ids ZED/fmadm mail carries
  for (const id of ['14', '2Q', '3C', '4J', '5E', '6X', '72', '8A', '9P', 'A5', 'ER', 'EY', 'HC', 'JQ', 'K4', 'MM', 'D3', 'FD', 'GH']) {
    const m = zfsMessage(`ZFS-8000-${id}`);
    assert.ok(m && m.meaning && m.action, `ZFS-8000-${id}`);
  }
  assert.match(zfsMessage('ZFS-8000-HC')!.meaning, /pool I\/O is currently suspended/);
  assert.match(zfsMessage('ZFS-8000-K4')!.meaning, /log/);
  assert.equal(zfsMessage('ZFS-8000-ZZ'), undefined);
  assert.equal(zfsMessage('constructor'), undefined);
});

test('a suspended pool whose error list is unavailable: "suspended" is said, no permanent errors are claimed', () => {
  const [p] = parseZpoolStatusText(readFixture('zpool', 'status-suspended-unavail-errors-list-unavailable.txt'));
  assert.deepEqual(p!.errors, {
    dataErrors: 0,
    counted: false,
    permanentFiles: [],
    listUnavailable: true,
    unavailableBecause: 'pool I/O is currently suspended',
    text: 'List of errors unavailable: pool I/O is currently suspended',
  });
  const obs = poolObservations({ health: p! }, 'nas', NOW);
  assert.equal(pool(obs).values.suspended, true);
  assert.match(pool(obs).summary!, /pool I\/O is currently suspended/);
  const as = raised(obs);
  assert.equal(rule(as, 'zfs-permanent-errors'), undefined, 'zpool printed no errors: none are claimed');
  assert.ok(!as.some((a) => /permanent|restore .*from backup/i.test(`${a.summary} ${a.description ?? ''} ${actionsOf(a)}`)), 'nothing says permanent errors or restore from backup');
  const down = rule(as, 'zfs-pool-not-online')!;
  assert.equal(down.summary, 'pool dozer is UNAVAIL, pool I/O is currently suspended: sdd FAULTED');
  assert.match(down.description!, /zpool status says: "One or more devices are faulted in response to IO failures\."/);
  assert.match(down.description!, /Action: "Make sure the affected devices are connected, then run 'zpool clear'\."/);
  assert.match(down.description!, /\(see http:\/\/zfsonlinux\.org\/msg\/ZFS-8000-HC\)/);
  assert.match(down.description!, /ZFS-8000-HC: pool I\/O is currently suspended/);
  // sdc and sdd are a stripe: sdd FAULTED is data at risk
  assert.match(down.description!, /sdd is FAULTED and has no redundancy \(a stripe: no redundancy\): data at risk/);
  assert.match(actionsOf(down), /zpool clear dozer/);
});

test("a suspended single-disk pool: zpool's own count of data errors is passed on as a count, and data is at risk", () => {
  const obs = observe('status-suspended-single-disk-42-data-errors.txt');
  const v = pool(obs).values;
  assert.equal(v.data_errors, 42);
  assert.equal(v.errors_unavailable, 'pool I/O is currently suspended');
  assert.equal(v.data_at_risk, true);
  assert.match(String(v.risk), /sdb is UNAVAIL and has no redundancy \(a single-disk pool\): data at risk/);
  const as = raised(obs);
  const errors = rule(as, 'zfs-permanent-errors')!;
  assert.equal(errors.summary, 'pool testpool reports 42 data errors');
  assert.match(errors.description!, /The list of errors is unavailable: pool I\/O is currently suspended/);
  assert.match(actionsOf(errors), /zpool status -v testpool/);
  const vdev = rule(as, 'zfs-device-not-online')!;
  assert.match(vdev.description!, /no redundancy behind it/);
  assert.match(actionsOf(vdev), /Back up testpool now/);
});

test('a log device OFFLINE is named as the log device', () => {
  const obs = observe('status-degraded-log-device-offline-smartos.txt');
  assert.match(String(pool(obs).values.aux_devices), /^log device \(SLOG\) c1t2d0s4 is OFFLINE$/);
  assert.equal(pool(obs).values.data_at_risk, false, 'the data mirror is whole');
  const as = raised(obs);
  assert.equal(rule(as, 'zfs-device-not-online')!.summary, 'zones: log device (SLOG) c1t2d0s4 is OFFLINE');
  assert.match(rule(as, 'zfs-pool-not-online')!.description!, /log device \(SLOG\) c1t2d0s4 is OFFLINE/);
});

test('cache devices UNAVAIL are named as cache, and are not data loss', () => {
  const obs = observe('status-raidz1-cache-devices-unavail-zed-email.txt');
  assert.match(String(pool(obs).values.aux_devices), /cache device \(L2ARC\) .* is UNAVAIL \(a read cache only: no data is lost/);
  assert.equal(pool(obs).values.data_at_risk, false);
  const as = raised(obs);
  const cache = as.filter((a) => a.rule === 'zfs-device-not-online');
  assert.equal(cache.length, 2);
  for (const a of cache) {
    assert.match(a.summary, /cache device \(L2ARC\)/);
    assert.match(a.description!, /no data is lost/);
  }
});

test('a whole mirror faulting at once gets the shared-cause hypothesis', () => {
  const obs = observe('status-x-unavail-whole-mirror-faulted-label.txt');
  const v = pool(obs).values;
  assert.match(String(v.shared_cause), /2 disks failed at once \(all of mirror-0\): sdc FAULTED, sdd FAULTED/);
  assert.match(String(v.shared_cause), /controller\/HBA, a backplane or enclosure, a cable, or power/);
  assert.match(String(v.risk), /mirror-0 has lost 2 of 2 members/);
  const down = rule(raised(obs), 'zfs-pool-not-online')!;
  assert.match(down.description!, /Disks rarely die together/);
  assert.match(down.description!, /ZFS-8000-5E/);
  assert.match(actionsOf(down), /Check what the failed disks share/);
});

test('a two-way mirror down one disk has no redundancy left: one more failure loses data', () => {
  const obs = observe('status-degraded-removed-device.txt');
  assert.equal(pool(obs).values.data_at_risk, true);
  assert.match(String(pool(obs).values.risk), /^mirror-0 has no redundancy left \(1 of 2 members down\): one more failure loses data, back up now$/);
  assert.equal(pool(obs).values.shared_cause, '', 'one disk is not a pattern');
});
