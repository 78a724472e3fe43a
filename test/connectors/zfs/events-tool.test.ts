/**
 * zfs_pool_events end to end: the real tool and ZfsReader run test/bin/zpool (put first on PATH),
 * which replays real fixtures from a scenario folder and logs every call to calls.log.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ZfsReader } from '../../../src/connectors/zfs/read.ts';
import { zfsTools } from '../../../src/connectors/zfs/tools.ts';
import type { ToolResult, ToolSpec } from '../../../src/tools/types.ts';
import { fixturePath } from '../../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/', import.meta.url));

/** The pools labwatch knows: `store` (DEGRADED) and `zroot`, a real `zpool list -p` (netdata#18359). */
const LIST = 'list-p-two-pools-degraded.txt';

interface EventRow {
  class: string;
  time: string;
  vdevPath?: string;
  vdevState?: string;
  eid?: number;
}

/** A scenario folder for test/bin/zpool: fixture copies (to → from) plus literal files. */
function scenario(copies: Record<string, string>, literal: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-zpool-events-'));
  for (const [to, from] of Object.entries(copies)) copyFileSync(fixturePath('zpool', from), join(dir, to));
  for (const [to, text] of Object.entries(literal)) writeFileSync(join(dir, to), text);
  return dir;
}
const calls = (dir: string) => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : []);

let tool: ToolSpec;
before(() => {
  process.env.PATH = `${BIN}${delimiter}${process.env.PATH ?? ''}`;
  const found = zfsTools(new ZfsReader()).find((t) => t.name === 'zfs_pool_events');
  assert.ok(found, 'zfsTools offers zfs_pool_events');
  tool = found;
});

/** Validates the input against the tool's own schema (defaults included), then runs it against `dir`. */
async function call(dir: string, input: Record<string, unknown>): Promise<ToolResult> {
  process.env.FAKE_ZPOOL_DIR = dir;
  const args = z.strictObject(tool.input).parse(input);
  return tool.run(args, AbortSignal.timeout(10_000));
}

test('the schema: pool as zfs_pool_status takes it, limit 1..100 defaulting to 20, read-only', () => {
  const schema = z.strictObject(tool.input);
  assert.deepEqual(schema.parse({ pool: 'zroot' }), { pool: 'zroot', limit: 20 });
  assert.equal(schema.safeParse({ pool: 'zroot', limit: 0 }).success, false);
  assert.equal(schema.safeParse({ pool: 'zroot', limit: 101 }).success, false);
  assert.equal(schema.safeParse({ pool: 'zroot', limit: 2.5 }).success, false);
  assert.equal(schema.safeParse({ pool: '-o cachefile=/x' }).success, false);
  assert.equal(tool.annotations.readOnly, true);
  assert.equal(tool.annotations.destructive, false);
});

test("a known pool's io ereport comes back with its device, and zpool events -v <pool> is what ran", async () => {
  const dir = scenario({ 'list.txt': LIST, 'events.txt': 'events-v-io-error-raidz.txt' });
  const r = await call(dir, { pool: 'zroot' });
  assert.equal(r.status, 'ok', r.text);
  assert.deepEqual(calls(dir), ['list -Hp', 'events -v zroot']);
  assert.deepEqual(r.data!.events, [
    { class: 'ereport.fs.zfs.io', time: 'Oct 10 2021 10:39:51.709234009', vdevPath: '/dev/disk/by-id/ata-ST10000NM0568-2H5110_ZHZ54DBW-part1', eid: 16 },
  ]);
  assert.deepEqual(r.data!.perClass, { 'ereport.fs.zfs.io': 1 });
  assert.match(r.text, /^1 of 1 events for zroot, newest first\nOct 10 2021 10:39:51\.709234009 ereport\.fs\.zfs\.io \/dev\/disk\/by-id\/ata-ST10000NM0568/);
});

test('events come back newest first and capped by limit, with the per-class count and the dropped count', async () => {
  // zpool prints oldest first: history_event, scrub_finish (both .900000000), then scrub_start (.924000000).
  const dir = scenario({ 'list.txt': LIST, 'events.txt': 'events-list-dropped-scrub.txt' });
  const two = await call(dir, { pool: 'store', limit: 2 });
  assert.equal(two.status, 'ok', two.text);
  assert.deepEqual(
    (two.data!.events as EventRow[]).map((e) => [e.class, e.time]),
    [
      ['sysevent.fs.zfs.scrub_start', 'Feb 21 2019 20:18:22.924000000'],
      ['sysevent.fs.zfs.scrub_finish', 'Feb 21 2019 20:18:22.900000000'],
    ],
  );
  assert.deepEqual(two.data!.perClass, { 'sysevent.fs.zfs.scrub_start': 1, 'sysevent.fs.zfs.scrub_finish': 1 });
  assert.equal(two.data!.total, 3);
  assert.equal(two.data!.dropped, 285);
  assert.equal(two.text.split('\n')[0], '2 of 3 events for store, newest first; the kernel dropped 285 older events');
  assert.equal(two.text.split('\n').length, 3);

  const all = await call(dir, { pool: 'store' }); // default limit 20
  assert.deepEqual(
    (all.data!.events as EventRow[]).map((e) => e.class),
    ['sysevent.fs.zfs.scrub_start', 'sysevent.fs.zfs.scrub_finish', 'sysevent.fs.zfs.history_event'],
  );
  assert.deepEqual(calls(dir).filter((c) => c.startsWith('events')), ['events -v store', 'events -v store']);
});

test('events that name another pool are left out (an old zpool did not filter, openzfs/zfs#3285)', async () => {
  // The fixture is `zpool events -v backup` printing a statechange with no pool name and a config.sync of "replicator".
  const dir = scenario({ 'list.txt': LIST, 'events.txt': 'events-v-statechange-config-sync-zol.txt' });
  const r = await call(dir, { pool: 'zroot' });
  assert.equal(r.status, 'ok', r.text);
  assert.deepEqual(r.data!.events, [{ class: 'resource.fs.zfs.statechange', time: 'Mar 25 2015 00:21:12.736548371', vdevState: 'ONLINE', eid: 1 }]);
  assert.equal(r.data!.total, 1);
});

test('a pool labwatch does not know is refused before zpool events runs', async () => {
  const dir = scenario({ 'list.txt': LIST, 'events.txt': 'events-v-io-error-raidz.txt' });
  const r = await call(dir, { pool: 'backup' });
  assert.equal(r.status, 'error');
  assert.equal(r.text, 'no pool "backup" (pools: store, zroot); call zfs_list_pools');
  assert.deepEqual(calls(dir), ['list -Hp']);
  assert.equal(calls(dir).some((c) => c.startsWith('events')), false);
});

test('an empty event log is no data, saying what that means', async () => {
  // Only the header: what `zpool events` printed with nothing logged in openzfs/zfs PR #9523 (tonyhutter, 2021-03-11).
  const header = readFileSync(fixturePath('zpool', 'events-list-dropped-scrub.txt'), 'utf8').split('\n')[0]!;
  const dir = scenario({ 'list.txt': LIST }, { 'events.txt': `${header}\n` });
  const r = await call(dir, { pool: 'zroot' });
  assert.equal(r.status, 'no_data', r.text);
  assert.match(r.text, /^no ZFS events logged for pool zroot since/);
});

test('permission denied (zpool events run without root) gives an error saying what failed and what to do', async () => {
  // As in openzfs/zfs#8688: a non-root run prints the header on stdout, then the error on stderr.
  // The exit status is not in the issue: 255 is zpool_main.c returning libzfs's -1.
  const header = readFileSync(fixturePath('zpool', 'events-list-dropped-scrub.txt'), 'utf8').split('\n')[0]!;
  const dir = scenario(
    { 'list.txt': LIST },
    { 'events.txt': `${header}\n`, 'events.err': 'cannot get event: permission denied\n', 'events.exit': '255\n' },
  );
  const r = await call(dir, { pool: 'zroot' });
  assert.equal(r.status, 'error');
  assert.match(r.text, /^zpool events -v zroot exited 255: cannot get event: permission denied\. /);
  assert.match(r.text, /run labwatch as root, or give its user CAP_SYS_ADMIN/);
  assert.deepEqual(calls(dir), ['list -Hp', 'events -v zroot']);
});
