/**
 * The parsers under fuzz, each as the real path runs it (parse, then what the collector or the
 * webhook does with the value next), with its real inputs (captures read in place) and the error
 * classes its contract allows. Shared by test/fuzz/*.test.ts and bench/fuzz.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type fc from 'fast-check';
import { SmartParseError, parseScan, parseSmartctl } from '../../src/connectors/smart/parse.ts';
import { driveObservation } from '../../src/connectors/smart/collect.ts';
import { ZpoolParseError, parseZpoolList, parseZpoolListJson, parseZpoolStatusJson, parseZpoolStatusText } from '../../src/connectors/zfs/parse.ts';
import { parseZpoolEvents } from '../../src/connectors/zfs/parse-events.ts';
import { poolObservations } from '../../src/connectors/zfs/collect.ts';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { PayloadError } from '../../src/connectors/types.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { RuleLoadError, loadRules } from '../../src/rules/load.ts';
import { OWN_FIXTURES, SHARED_FIXTURES } from '../helpers/fixtures.ts';
import { jsonInputs, textInputs, yamlInputs, type Json } from './mutate.ts';
import type { Target } from './oracle.ts';

export interface FuzzTarget extends Target<string> {
  inputs: fc.Arbitrary<string>;
  /** the real inputs, for a baseline (JSON.parse or split over the same kind of text) */
  samples: string[];
  /** what the baseline does with one input */
  baseline: 'JSON.parse' | 'split lines' | 'YAML parse';
}

/** Every capture in a fixture folder (shared and own) whose name matches. */
function captures(folder: string, match: RegExp): string[] {
  const out: string[] = [];
  for (const root of [SHARED_FIXTURES, OWN_FIXTURES]) {
    let names: string[] = [];
    try {
      names = readdirSync(join(root, folder));
    } catch {
      continue;
    }
    for (const n of names.sort()) if (match.test(n)) out.push(readFileSync(join(root, folder, n), 'utf8'));
  }
  if (out.length === 0) throw new Error(`no ${match} capture in ${folder} (shared or own fixtures)`);
  return out;
}
const docs = (texts: string[]) => texts.map((t) => JSON.parse(t) as Json);

const NOW = new Date('2026-11-24T20:00:00Z');
const STANDBY_EXIT = 3;

function jsonTarget(name: string, texts: string[], errors: FuzzTarget['errors'], run: (s: string) => unknown): FuzzTarget {
  return { name, inputs: jsonInputs(docs(texts)), samples: texts, baseline: 'JSON.parse', errors, run };
}
function textTarget(name: string, texts: string[], errors: FuzzTarget['errors'], run: (s: string) => unknown): FuzzTarget {
  return { name, inputs: textInputs(texts), samples: texts, baseline: 'split lines', errors, run };
}

/** The command-output and webhook parsers (pure: text in, value out). */
export function parserTargets(): FuzzTarget[] {
  const smart = captures('smartctl', /^(?!scan).*\.json$/);
  const zpoolStatus = captures('zpool', /^status-.*\.txt$/);
  return [
    jsonTarget('smartctl --json', smart, [SmartParseError], (s) =>
      // the collector's path: exit code 2 or 0, then the observation the rules read
      driveObservation(parseSmartctl(s, s.length % 2 ? 2 : 0, { device: '/dev/sda', type: 'sat' }, STANDBY_EXIT), 'nas', NOW.toISOString()),
    ),
    jsonTarget('smartctl --scan --json', captures('smartctl', /^scan.*\.json$/), [SmartParseError], parseScan),
    textTarget('zpool status (text)', zpoolStatus, [ZpoolParseError], (s) => parseZpoolStatusText(s).flatMap((health) => poolObservations({ health }, 'nas', NOW))),
    jsonTarget('zpool status -j', captures('zpool', /^status-.*\.json$/), [ZpoolParseError], (s) => parseZpoolStatusJson(s).flatMap((health) => poolObservations({ health }, 'nas', NOW))),
    textTarget('zpool list (text)', captures('zpool', /^list-.*\.txt$/), [ZpoolParseError], parseZpoolList),
    jsonTarget('zpool list -j', captures('zpool', /^list-.*\.json$/), [ZpoolParseError], parseZpoolListJson),
    textTarget('zpool events', captures('zpool', /^events-.*\.txt$/), [ZpoolParseError], parseZpoolEvents),
    // The webhook route parses the body as JSON.parse does (a SyntaxError is its 400 "body is not valid JSON").
    jsonTarget('Alertmanager webhook', captures('alertmanager', /^webhook-.*\.json$/), [PayloadError, SyntaxError], (s) => alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(s)))),
  ];
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The YAML files a person writes: the example config and the shipped rule files, loaded through
 * the real loaders from a file (the loaders take a path), one scratch file per target.
 */
export function fileTargets(): FuzzTarget[] {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-fuzz-'));
  const configFile = join(dir, 'labwatch.yaml');
  const rulesFile = join(dir, 'rules.yaml');
  const rules = readdirSync(join(REPO, 'rules'))
    .filter((f) => /\.ya?ml$/.test(f) && !/\.test\./.test(f))
    .sort()
    .map((f) => readFileSync(join(REPO, 'rules', f), 'utf8'));
  const config = [readFileSync(join(REPO, 'config', 'labwatch.example.yaml'), 'utf8')];
  return [
    {
      name: 'config file',
      inputs: yamlInputs(config),
      samples: config,
      baseline: 'YAML parse',
      errors: [ConfigError],
      // every problem is listed at once, by design: a long list is not an echo
      maxMessage: Infinity,
      // the traps' `__proto__:` blocks hold "injected": it must be refused as an unknown key, never read as settings
      check: (v) => (JSON.stringify(v).includes('injected') ? 'a __proto__ block of the file became settings' : undefined),
      run: (s) => {
        writeFileSync(configFile, s);
        return loadConfig(configFile, {});
      },
    },
    {
      name: 'rule file',
      inputs: yamlInputs(rules),
      samples: rules,
      baseline: 'YAML parse',
      errors: [RuleLoadError],
      maxMessage: Infinity,
      run: (s) => {
        writeFileSync(rulesFile, s);
        // compiled rules hold functions: what is judged is the data a reload keeps
        return loadRules(rulesFile).rules.map(({ when: _w, escalate: _e, summary: _s, description: _d, subject: _sub, actions: _a, ...data }) => data);
      },
    },
  ];
}
