/**
 * Eval scenarios: a small YAML file per real failure (or healthy control) naming which real
 * captures the stand-in smartctl/zpool replay and which Alertmanager bodies are posted, and the
 * facts a good report names. Captures are read in place (test/fixtures, else ../shared/fixtures).
 * `stage` lays out the stand-ins' folders; `labwatch demo` may reuse it.
 */
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { fixturePath, readFixture } from '../test/helpers/fixtures.ts';

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));
const BIN = fileURLToPath(new URL('../test/bin/', import.meta.url));

const capture = z.string().regex(/^[a-z]+\/[^/]+$/, 'a capture is "<folder>/<file>", e.g. smartctl/nvme-healthy-samsung-970evoplus.json');

const schema = z.strictObject({
  title: z.string(),
  category: z.enum(['smart', 'zfs', 'alerts', 'controls']),
  /** device basename (as the real scan names it: sda…sdg) → the capture replayed for it */
  smartctl: z.record(z.string().regex(/^[a-z0-9]+$/), z.union([capture, z.strictObject({ capture, exit: z.number().int() })])).optional(),
  zpool: z.strictObject({ status: capture.optional(), status_json: capture.optional(), list: capture.optional(), events: capture.optional() }).optional(),
  /** Alertmanager webhook bodies posted in order */
  webhook: z.array(capture).optional(),
  /** "silent" for a control; else fact name → a string (case-insensitive) or /regex/flags */
  /** fact name → what a good report must NOT claim (e.g. permanent errors the tool never listed); each counts as a fact */
  reject: z.record(z.string(), z.string()).optional(),
  expect: z.union([z.literal('silent'), z.record(z.string(), z.string()).refine((r) => Object.keys(r).length > 0, 'name at least one fact')]),
});

export type Scenario = z.infer<typeof schema> & { id: string; file: string };

/** Every scenario under `dir` (default eval/scenarios), sorted by id (category/name). */
export function loadScenarios(dir = SCENARIOS): Scenario[] {
  const out: Scenario[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join(dir, sub.name)).filter((n) => n.endsWith('.yaml'))) {
      const file = join(dir, sub.name, f);
      const parsed = schema.safeParse(parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const s = parsed.data;
      if (s.category !== sub.name) throw new Error(`${file}: category ${s.category} but it lives in ${sub.name}/`);
      if (!s.smartctl && !s.zpool && !s.webhook) throw new Error(`${file}: names no input`);
      for (const c of captures(s)) fixturePath(...c.split('/'));
      out.push({ ...s, id: relative(dir, file).replace(/\.yaml$/, ''), file });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function captures(s: z.infer<typeof schema>): string[] {
  return [
    ...Object.values(s.smartctl ?? {}).map((d) => (typeof d === 'string' ? d : d.capture)),
    ...Object.values(s.zpool ?? {}).filter((x): x is string => !!x),
    ...(s.webhook ?? []),
  ];
}

/** A fact's pattern: "/…/flags" is a regex, anything else a case-insensitive literal. */
export function patternOf(p: string): RegExp {
  const m = /^\/(.+)\/([imsu]*)$/s.exec(p);
  if (m) return new RegExp(m[1]!, m[2]!.includes('i') ? m[2]! : m[2]! + 'i');
  return new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
}

export interface Staged {
  /** a smartctl for watch.smart.smartctl, replaying this scenario (absent: no SMART input) */
  smartctl?: string;
  /** a zpool for watch.zfs.zpool */
  zpool?: string;
  dir: string;
}

/**
 * The stand-ins' folders for one scenario, each behind a small wrapper that sets its FAKE_*_DIR,
 * so several labs can replay different scenarios in one process.
 */
export function stage(s: Pick<Scenario, 'smartctl' | 'zpool'>): Staged {
  const dir = mkdtempSync(join(tmpdir(), 'labwatch-eval-'));
  const staged: Staged = { dir };
  const wrapper = (name: string, env: string, folder: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${env}='${folder}' exec '${join(BIN, name)}' "$@"\n`);
    chmodSync(p, 0o755);
    return p;
  };
  if (s.smartctl) {
    const smart = mkdtempSync(join(dir, 'smartctl-'));
    // The real scan (sda…sdg), trimmed to the devices this scenario replays.
    const scan = JSON.parse(readFixture('smartctl', 'scan-json.json')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => basename(d.name) in s.smartctl!);
    writeFileSync(join(smart, 'scan.json'), JSON.stringify(scan));
    for (const [dev, d] of Object.entries(s.smartctl)) {
      const c = typeof d === 'string' ? d : d.capture;
      copyFileSync(fixturePath(...c.split('/')), join(smart, `${dev}.json`));
      // The exit status smartctl recorded with the capture, unless the scenario says otherwise.
      const recorded = (JSON.parse(readFileSync(join(smart, `${dev}.json`), 'utf8')) as { smartctl?: { exit_status?: number } }).smartctl?.exit_status ?? 0;
      writeFileSync(join(smart, `${dev}.exit`), String(typeof d === 'string' ? recorded : d.exit));
    }
    staged.smartctl = wrapper('smartctl', 'FAKE_SMARTCTL_DIR', smart);
  }
  if (s.zpool) {
    const zfs = mkdtempSync(join(dir, 'zpool-'));
    const names = { status: 'status.txt', status_json: 'status.json', list: 'list.txt', events: 'events.txt' } as const;
    for (const [k, c] of Object.entries(s.zpool)) if (c) copyFileSync(fixturePath(...c.split('/')), join(zfs, names[k as keyof typeof names]));
    staged.zpool = wrapper('zpool', 'FAKE_ZPOOL_DIR', zfs);
  }
  return staged;
}

/** The watch: block for a lab replaying `st` (collectors only run when the harness says). */
export function watchYaml(st: Staged): string {
  const never = '"0 0 1 1 *"';
  return [
    'watch:',
    st.smartctl ? `  smart: { enabled: true, schedule: ${never}, smartctl: "${st.smartctl}" }` : '  smart: { enabled: false }',
    st.zpool ? `  zfs: { enabled: true, schedule: ${never}, zpool: "${st.zpool}" }` : '  zfs: { enabled: false }',
    '  host: { enabled: false }',
  ].join('\n');
}
