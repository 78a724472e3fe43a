import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZpoolEvents } from '../../../src/connectors/zfs/parse-events.ts';
import { ZpoolParseError } from '../../../src/connectors/zfs/parse.ts';
import { readFixture } from '../../helpers/fixtures.ts';

/** Every input is a real `zpool events` output from test/fixtures/zpool/ (see SOURCES.md there), or quoted from the same sources. */
const fixture = (name: string) => readFixture('zpool', name);

test('zpool events -v (ZoL 0.6, #3285): statechange with pool_guid only, then config.sync with an embedded detector nvlist', () => {
  const { dropped, events } = parseZpoolEvents(fixture('events-v-statechange-config-sync-zol.txt'));
  assert.equal(dropped, 0);
  assert.equal(events.length, 2);
  const change = events[0]!;
  const sync = events[1]!;

  assert.equal(change.time, 'Mar 25 2015 00:21:12.736548371');
  assert.equal(change.class, 'resource.fs.zfs.statechange');
  assert.equal(change.pool, undefined, 'this old statechange names no pool, only its guid');
  assert.equal(change.poolGuid, '0x721ced5ecb0e6352');
  assert.equal(change.vdevGuid, '0x2c250a4abf3ae7de');
  assert.equal(change.fields.vdev_state, '0x7', 'hex stays as printed');
  assert.equal(change.vdevState, 'ONLINE', 'VDEV_STATE_HEALTHY (7) is what zpool calls ONLINE');
  assert.equal(change.eid, 1);
  assert.equal(change.fields.eid, '0x1');
  assert.equal(change.fields.class, 'resource.fs.zfs.statechange', 'quotes removed');
  assert.equal(change.fields.time, '0x551237b8 0x2be6d613', 'an int64 array; the trailing space zpool prints is trimmed');
  assert.deepEqual(Object.keys(change.fields), ['version', 'class', 'pool_guid', 'pool_context', 'vdev_guid', 'vdev_state', 'time', 'eid']);

  assert.equal(sync.time, 'Mar 25 2015 00:21:14.068548406');
  assert.equal(sync.class, 'ereport.fs.zfs.config.sync');
  assert.equal(sync.pool, 'replicator', "the detector's nested pool (a guid) must not overwrite the event's pool");
  assert.equal(sync.poolGuid, '0x721ced5ecb0e6352');
  assert.equal(sync.eid, 2);
  assert.equal(sync.vdevPath, undefined);
  assert.equal(sync.vdevState, undefined);
  assert.equal(sync.fields['detector.pool'], '0x721ced5ecb0e6352');
  assert.equal(sync.fields['detector.scheme'], 'zfs');
  assert.equal(sync.fields['detector.version'], '0x0');
  assert.equal(sync.fields.detector, undefined, 'the "(embedded nvlist)" marker is not a value');
  assert.equal(sync.fields.version, undefined, 'only the detector has a version in this event');
  assert.equal(sync.fields.pool_failmode, 'wait');
});

test('zpool events -v (#12629): an ereport.fs.zfs.io on a raidz member with its vdev_path and empty arrays, no header', () => {
  const { dropped, events } = parseZpoolEvents(fixture('events-v-io-error-raidz.txt'));
  assert.equal(dropped, 0);
  assert.equal(events.length, 1);
  const io = events[0]!;
  assert.equal(io.time, 'Oct 10 2021 10:39:51.709234009');
  assert.equal(io.class, 'ereport.fs.zfs.io');
  assert.equal(io.pool, 'zroot');
  assert.equal(io.poolGuid, '0xe244c57cc81be54b');
  assert.equal(io.vdevPath, '/dev/disk/by-id/ata-ST10000NM0568-2H5110_ZHZ54DBW-part1');
  assert.equal(io.vdevGuid, '0x7e580703404ed3ff');
  assert.equal(io.vdevState, undefined, 'an io ereport carries no vdev_state');
  assert.equal(io.eid, 16, 'eid = 0x10');
  assert.equal(io.fields.parent_type, 'raidz');
  assert.equal(io.fields.zio_err, '0x5', 'EIO, as printed');
  assert.equal(io.fields.zio_offset, '0x42000');
  assert.equal(io.fields.vdev_spare_paths, '', 'an empty string array prints nothing after "= "');
  assert.equal(io.fields['detector.vdev'], '0x7e580703404ed3ff');
  assert.equal(Object.keys(io.fields).length, 37);
});

test('zpool events (#8688): the plain list, "dropped 285 events", three sysevents, no payload', () => {
  const { dropped, events } = parseZpoolEvents(fixture('events-list-dropped-scrub.txt'));
  assert.equal(dropped, 285);
  assert.deepEqual(
    events.map((e) => [e.time, e.class]),
    [
      ['Feb 21 2019 20:18:22.900000000', 'sysevent.fs.zfs.history_event'],
      ['Feb 21 2019 20:18:22.900000000', 'sysevent.fs.zfs.scrub_finish'],
      ['Feb 21 2019 20:18:22.924000000', 'sysevent.fs.zfs.scrub_start'],
    ],
  );
  for (const e of events) {
    assert.deepEqual(e.fields, {});
    assert.equal(e.eid, undefined);
    assert.equal(e.pool, undefined);
  }
});

test('lines that are not zpool events output are skipped: the whole published #8688 transcript gives the same events', () => {
  // As published in openzfs/zfs#8688 (tonyhutter, 2019-05-14): a non-root run (header, then the error),
  // then the sudo run; the prompt and sudo lines are the reporter's shell, not zpool.
  const published =
    'hutter@ubuntu18:~/zfs$ ./cmd/zpool/zpool events\n' +
    'TIME                           CLASS\n' +
    'cannot get event: permission denied\n' +
    'hutter@ubuntu18:~/zfs$ sudo ./cmd/zpool/zpool events\n' +
    '[sudo] password for hutter: \n' +
    fixture('events-list-dropped-scrub.txt');
  assert.deepEqual(parseZpoolEvents(published), parseZpoolEvents(fixture('events-list-dropped-scrub.txt')));
});

test('a header with no events (an empty log, or what a non-root run prints on stdout) is no events, not an error', () => {
  const header = fixture('events-list-dropped-scrub.txt').split('\n')[0]!;
  assert.equal(header, 'TIME                           CLASS');
  assert.deepEqual(parseZpoolEvents(`${header}\n`), { dropped: 0, events: [] });
});

test('newer zpools print state enums as "NAME" (0xN): the name is kept', () => {
  // Lines quoted from openzfs/zfs PR #9523 (cvoltz, 2019-10-28); the published event continues with
  // time and eid lines, which the stored copy cuts mid-line, so it ends here.
  const published = [
    'Oct 16 2019 12:04:08.424390273 resource.fs.zfs.statechange',
    '        version = 0x0',
    '        class = "resource.fs.zfs.statechange"',
    '        pool = "ost04"',
    '        pool_guid = 0x8159dca79b3945a4',
    '        pool_state = 0x0',
    '        pool_context = 0x0',
    '        vdev_guid = 0x8159dca79b3945a4',
    '        vdev_state = "ONLINE" (0x7)',
    '        vdev_laststate = "UNKNOWN" (0x0)',
  ].join('\n');
  const [e] = parseZpoolEvents(published).events;
  assert.equal(e!.pool, 'ost04');
  assert.equal(e!.vdevState, 'ONLINE');
  assert.equal(e!.fields.vdev_state, 'ONLINE');
  assert.equal(e!.fields.vdev_laststate, 'UNKNOWN');
  assert.equal(e!.eid, undefined);
});

test('output that is not zpool events is refused with what was expected and what came', () => {
  assert.throws(() => parseZpoolEvents(''), (e: Error) => e instanceof ZpoolParseError && /TIME CLASS.*empty output/s.test(e.message));
  assert.throws(
    () => parseZpoolEvents(fixture('status-scrub-in-progress.txt')),
    (e: Error) => e instanceof ZpoolParseError && /^expected `zpool events` output: a "TIME CLASS" header or event lines/.test(e.message) && /"pool: /.test(e.message),
  );
  assert.throws(() => parseZpoolEvents('cannot get event: permission denied\n'), /the first line received was "cannot get event: permission denied"/);
});
