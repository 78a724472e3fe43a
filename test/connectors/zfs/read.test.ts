/**
 * Reading pools through the real exec path: test/bin/zpool replays real captures from a scenario
 * folder and logs every call to calls.log. `zpool status` and `zpool list` stand alone, and
 * whether zpool speaks JSON is learnt once, for the collector and the tools together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zfs } from '../../../src/connectors/zfs/index.ts';
import { ZfsReader } from '../../../src/connectors/zfs/read.ts';
import type { ConnectorContext } from '../../../src/connectors/types.ts';
import { createLogger } from '../../../src/telemetry/log.ts';
import { fixturePath, readFixture } from '../../helpers/fixtures.ts';

const ZPOOL = fileURLToPath(new URL('../../bin/zpool', import.meta.url));

function scenario(copies: Record<string, string>, literal: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-zpool-read-'));
  for (const [to, from] of Object.entries(copies)) copyFileSync(fixturePath('zpool', from), join(dir, to));
  for (const [to, text] of Object.entries(literal)) writeFileSync(join(dir, to), text);
  return dir;
}
const calls = (dir: string) => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : []);

/** The zfs connector as the daemon builds it: one config, its collector and its tools. */
function connector(dir: string) {
  process.env.FAKE_ZPOOL_DIR = dir;
  const ctx: ConnectorContext = {
    block: undefined,
    watch: zfs.watch!.parse({ zpool: ZPOOL }),
    secrets: {},
    host: 'nas',
    log: createLogger({ level: 'silent' }),
    rules: () => [],
    jitterMs: 0,
  };
  const [scheduled] = zfs.collectors!(ctx);
  const tools = zfs.tools!(ctx);
  return { collector: scheduled!.collector, status: tools.find((t) => t.name === 'zfs_pool_status')! };
}

test('an unparsable `zpool list` leaves the pools visible and is reported on its own', async () => {
  // Derived: the first row of a real `zpool list -v -H -P -p` cut after its FREE column (too few columns).
  const cut = readFixture('zpool', 'list-H-P-p-v-mirror.txt').split('\n')[0]!.split('\t').slice(0, 4).join('\t') + '\n';
  const dir = scenario({ 'status.txt': 'status-degraded-removed-device.txt' }, { 'list.txt': cut });
  const { collector } = connector(dir);
  const obs = await collector.collect(AbortSignal.timeout(10_000));
  const pool = obs.find((o) => o.subject === 'pool:dummy');
  assert.ok(pool, 'the pool from zpool status is still observed');
  assert.equal(pool.values.state, 'DEGRADED');
  assert.equal(pool.values.capacity_pct, undefined, 'no capacity without zpool list');
  assert.ok(obs.some((o) => o.subject === 'vdev:dummy/drive0-part1' && o.values.state === 'REMOVED'));
  const list = obs.find((o) => o.kind === 'collector')!;
  assert.equal(list.subject, 'collector:zfs/zpool-list');
  assert.equal(list.values.ok, false);
  assert.match(String(list.values.error), /expected a `zpool list` row with at least/);
});

test('a working `zpool list` is reported ok and fills capacity', async () => {
  const dir = scenario({ 'status.txt': 'status-two-pools-feature-upgrade-notice.txt', 'list.txt': 'list-p-two-pools-degraded.txt' });
  const obs = await connector(dir).collector.collect(AbortSignal.timeout(10_000));
  assert.equal(obs.find((o) => o.kind === 'collector')!.values.ok, true);
});

test('the JSON probe (`zpool status -j`) runs once for the collector and the tools together', async () => {
  // A zpool without -j (test/bin/zpool exits 2 when there is no status.json): the text form is learnt.
  const dir = scenario({ 'status.txt': 'status-degraded-removed-device.txt', 'list.txt': 'list-p-two-pools-degraded.txt' });
  const { collector, status } = connector(dir);
  await collector.collect(AbortSignal.timeout(10_000));
  for (let i = 0; i < 3; i++) {
    const r = await status.run({ pool: 'dummy' }, AbortSignal.timeout(10_000));
    assert.equal(r.status, 'ok', r.text);
  }
  await collector.collect(AbortSignal.timeout(10_000));
  const log = calls(dir);
  assert.equal(log.filter((c) => c.startsWith('status -jp')).length, 1, `one probe; calls: ${log.join(' | ')}`);
  assert.equal(log.filter((c) => c === 'status -p').length, 5, 'then the text form every time');
});

test('a zpool that spoke JSON and then fails is a failure, not a reason to forget the JSON form', async () => {
  const dir = scenario({ 'status.json': 'status-j-c-vendor-model-size-raidz-dedup-special-manpage.json', 'status.txt': 'status-degraded-removed-device.txt' });
  process.env.FAKE_ZPOOL_DIR = dir;
  const reader = new ZfsReader({ zpool: ZPOOL });
  assert.equal((await reader.status())[0]!.name, 'tank');
  rmSync(join(dir, 'status.json')); // test/bin/zpool now exits 2 for -j
  await assert.rejects(reader.status(), /zpool status -jp --json-int exited 2/);
  assert.equal(reader.format, 'json', 'still JSON: the next run tries it again');
});
