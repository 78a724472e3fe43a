/**
 * Every text parser of a connector finishes 1 MB adversarial lines in well under a second, and
 * fails on them only with its own error type: a regular expression that backtracks (seconds on a
 * 40,000-digit line) would block the whole daemon's event loop while a collector runs.
 *
 * Each input is a real capture (test/helpers/fixtures.ts) with one line replaced or appended by a 1 MB line
 * written for this test (long digit runs, long spaces, repeated fragments): adversarial, not captured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZpoolParseError, parseZpoolList, parseZpoolListJson, parseZpoolStatusJson, parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import { parseZpoolEvents } from '../../src/connectors/zfs/parse-events.ts';
import { SmartParseError, parseScan, parseSmartctl } from '../../src/connectors/smart/parse.ts';
import { readFixture } from '../helpers/fixtures.ts';

const MB = 1_000_000;
const LIMIT_MS = 500;
/** CPU time, not wall time: a busy machine (test files run in parallel) delays a parse, it does not make it quadratic. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const fixture = (path: string) => readFixture(...path.split('/'));

/** 1 MB lines that make a backtracking regular expression quadratic. */
const LINES: Record<string, string> = {
  digits: '1'.repeat(MB),
  'digits then x': `${'1'.repeat(MB)}x`,
  'spaces then x': `${' '.repeat(MB)}x`,
  'tabs and spaces then a lone CR': `${' \t'.repeat(MB / 2)}x\ry`,
  'non-space run': 'x'.repeat(MB),
  'digits and colons': '1:'.repeat(MB / 2),
  'scan in progress fragments': 'scrub in progress since '.repeat(MB / 24) + '\u2028',
  'scrub repaired fragments': 'scrub repaired 0B in 1 with 1 errors on '.repeat(MB / 39) + '\r',
  'date then spaces': `Sun Nov  3 15:24:53${' '.repeat(MB)}x`,
  'percent fragments': '1.1'.repeat(MB / 3) + '% don',
  'to go fragments': '1 days 1'.repeat(MB / 8) + ':1',
  'was fragments': 'was '.repeat(MB / 4),
  'Device is in fragments': 'Device is in '.repeat(MB / 13) + 'x',
};

const STATUS = fixture('zpool/status-scrub-in-progress.txt');
const STATUS_FINISHED = fixture('zpool/status-degraded-mirror-unavail-corrupted-data.txt');
const STATUS_JSON = fixture('zpool/status-j-c-vendor-model-size-raidz-dedup-special-manpage.json');
const LIST = fixture('zpool/list-p-two-pools-degraded.txt');
const LIST_JSON = fixture('zpool/list-j-manpage.json');
const EVENTS = fixture('zpool/events-v-io-error-raidz.txt');
const STANDBY = fixture('smartctl/sata-standby-nocheck-exit2.json');
const SCAN = fixture('smartctl/scan-json.json');

/** Each parser, and the ways a 1 MB line is put into its real input. */
const PARSERS: { name: string; error: new (...a: never[]) => Error; inputs: (line: string) => string[]; parse: (text: string) => unknown }[] = [
  {
    name: 'zpool status (text)',
    error: ZpoolParseError,
    parse: parseZpoolStatusText,
    inputs: (line) => [
      line,
      STATUS.replace('0B repaired, 0.00% done, no estimated completion time', line), // a scan continuation line
      STATUS.replace('scrub in progress since Sun Feb 11 11:54:20 2024', `scrub in progress since ${line}`),
      STATUS.replace('scrub in progress since Sun Feb 11 11:54:20 2024', line),
      STATUS_FINISHED.replace('scrub repaired 0B in 00:00:00 with 0 errors on Sat Feb 10 20:34:42 2024', `scrub repaired 0B in ${line} with 0 errors on ${line}`),
      STATUS.replace(' state: ONLINE', ` state:${line}`),
      STATUS.replace('  pool: neptune', `  pool:${line}`),
      STATUS.replace('\t  mirror-0 ', `\t  ${line} `), // a config row
      `${STATUS}errors: ${line}\n`,
    ],
  },
  {
    name: 'zpool status -j',
    error: ZpoolParseError,
    parse: parseZpoolStatusJson,
    inputs: (line) => {
      const doc = JSON.parse(STATUS_JSON) as { pools: { tank: Record<string, unknown> & { vdevs: { tank: { vdevs: Record<string, Record<string, unknown>> } } } } };
      const tank = doc.pools.tank;
      const raidz = tank.vdevs.tank.vdevs['raidz1-0']!;
      return [
        line,
        JSON.stringify({ ...doc, pools: { tank: { ...tank, status: line } } }),
        JSON.stringify({ ...doc, pools: { tank: { ...tank, scan_stats: { function: 'SCRUB', state: 'FINISHED', start_time: line, end_time: line } } } }),
        JSON.stringify({ ...doc, pools: { tank: { ...tank, vdevs: { tank: { ...tank.vdevs.tank, vdevs: { [line]: { ...raidz, name: line, vdev_type: line, read_errors: line } } } } } } }),
      ];
    },
  },
  {
    name: 'zpool list (text)',
    error: ZpoolParseError,
    parse: parseZpoolList,
    inputs: (line) => [line, `${LIST}${line}\n`, LIST.replace('9981503995904', line), LIST.replace('    30   ', ` ${line}   `)],
  },
  {
    name: 'zpool list -j',
    error: ZpoolParseError,
    parse: parseZpoolListJson,
    inputs: (line) => [line, LIST_JSON.replace(/"size": \{\s*"value": "[^"]*"/, `"size": {"value": ${JSON.stringify(line)}`)],
  },
  {
    name: 'zpool events',
    error: ZpoolParseError,
    parse: parseZpoolEvents,
    inputs: (line) => [
      line,
      `TIME                           CLASS\n${line}\n`,
      `dropped ${line} events\n`,
      EVENTS.replace('ereport.fs.zfs.io\n', `ereport.fs.zfs.io${line}\n`),
      EVENTS.replace('        pool_failmode = "wait"', `        pool_failmode = ${line}`),
      EVENTS.replace('        pool_failmode = "wait"', `        ${line} = "${line}"`),
      EVENTS.replace('        (end detector)', `        (end ${line})`),
    ],
  },
  {
    name: 'smartctl --json',
    error: SmartParseError,
    parse: (text) => parseSmartctl(text, 2, { device: '/dev/sdc', type: 'sat' }, 2),
    inputs: (line) => {
      const doc = JSON.parse(STANDBY) as { smartctl: { messages: { string: string; severity: string }[] }; power_mode?: unknown };
      delete doc.power_mode; // so the messages decide
      doc.smartctl.messages = [{ string: line, severity: 'information' }];
      return [line, JSON.stringify(doc)];
    },
  },
  {
    name: 'smartctl --scan --json',
    error: SmartParseError,
    parse: parseScan,
    inputs: (line) => [line, SCAN.replace('"/dev/sda"', JSON.stringify(line))],
  },
];

for (const p of PARSERS) {
  test(`${p.name}: every 1 MB adversarial line is parsed in under ${LIMIT_MS} ms, failing only with ${p.error.name}`, (t) => {
    const slow: string[] = [];
    let slowest = { ms: 0, what: '' };
    for (const [what, line] of Object.entries(LINES)) {
      p.inputs(line).forEach((input, i) => {
        const t0 = cpuMs();
        try {
          p.parse(input);
        } catch (e) {
          assert.ok(e instanceof p.error, `${what} (input ${i}): threw ${String(e).slice(0, 200)}`);
        }
        const ms = cpuMs() - t0;
        if (ms > slowest.ms) slowest = { ms, what: `${what} (input ${i})` };
        if (ms > LIMIT_MS) slow.push(`${what} (input ${i}): ${Math.round(ms)} ms`);
      });
    }
    t.diagnostic(`slowest: ${slowest.what}, ${Math.round(slowest.ms)} ms`);
    assert.deepEqual(slow, []);
  });
}
