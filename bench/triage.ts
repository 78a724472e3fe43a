/**
 * Benchmark: AI triage (src/triage/agent.ts, AiTriager.investigate) per incident, for a 5-tool-call
 * investigation, against a baseline measured in the same run: ONE request that inlines the same 5
 * diagnostics' results in the user message (same system prompt, no tool but submit_report).
 *
 * Workload: a disk incident built the way labwatch builds one (the shipped rules evaluated on a real
 * drive observation, then mergeAnomalies): the FAILING drive of ../shared/fixtures/smartctl plus three
 * healthy ones, and a DEGRADED pool from ../shared/fixtures/zpool. The tools are labwatch's real ones, in
 * buildToolbox's order (incident, SMART, ZFS, host), over readers that run test/bin/smartctl and
 * test/bin/zpool (real exec of the fake executables, real parsers); drive history is 500 synthesized
 * readings (the rule engine keeps it in Redis, which this bench does not use), and the incident tools
 * read an in-memory stand-in for the store (they are offered, never called). The settings are
 * labwatch's defaults (agentSettings of a config with only the key file and base_url set).
 * The scripted model is a loopback HTTP server that answers at once: 5 turns asking for one tool each
 * (smart_list_drives, smart_drive_health, smart_drive_history, zfs_list_pools, zfs_pool_status), then
 * submit_report with a valid report: 6 requests per incident. The real SDK talks to it.
 *
 * Columns, per incident (median over BENCH_INCIDENTS incidents unless said):
 * - bytes sent: the raw JSON bodies the server received, summed over the incident's requests.
 * - uncached bytes: what the API processes as new input. Without caching: every byte of every request.
 *   With caching: the stable prefix (tools + system; cache_control sits on the system block, and the
 *   API caches tools → system → messages up to the marker) is a cache read after the first request, so
 *   uncached = total − prefix × (requests − 1). The prefix is measured as the bytes of the "tools" and
 *   "system" values inside each recorded body (checked to appear verbatim and identical in all).
 *   labwatch also marks the newest message of each request (a moving breakpoint), so from the second
 *   request on the previous request's whole conversation is a cache read too: the "+ conversation"
 *   row counts request i's uncached bytes as what it adds to request i-1 (checked to extend it
 *   verbatim, cache markers aside).
 *   The single request's prefix could only be a cache hit across incidents (within the cache TTL); not
 *   counted, as for the loop's first request.
 * - overhead ms: per incident, overhead = wall − HTTP − tools; median and p95 over the incidents.
 *   wall: performance.now() around investigate(). HTTP: the triager builds its own SDK client, so its
 *   waiting cannot be read from inside; right after each incident the same 6 recorded request bodies
 *   are replayed with a bare SDK client (messages.create, maxRetries 0) to the same server, which
 *   answers with the same scripted responses (same bytes each way; replayed bodies are checked
 *   byte-equal); the median of BENCH_REPLAYS passes is the SDK's serialization + loopback HTTP +
 *   server time of that incident's requests. tools: below. What remains is labwatch's own loop:
 *   building messages and tool definitions, scrubbing and wrapping results as untrusted data, input
 *   validation and output capping in runTool, auditing (in memory here), validating the report and
 *   building it. The baseline is measured the same way: wall (running the same 5 tools through runTool,
 *   building the inlined message, one request, validating the report and building it) minus its one
 *   replayed round trip minus its tool time. Loop and baseline alternate, one incident each, after
 *   BENCH_WARMUP untimed pairs. The HTTP estimate is not the loop's own HTTP time, only the same work
 *   again: single incidents come out a few ms off either way (even below zero), which the p95 carries.
 * - tool ms: time inside the tools' run() (a performance.now wrapper around each ToolSpec.run, which
 *   does not change what is sent); the audit's durationMs (whole ms, from runTool) is printed beside it
 *   as a cross-check. Tool time is dominated by spawning the fake smartctl/zpool (bash) processes.
 *
 *   node --import tsx bench/triage.ts        (env: BENCH_INCIDENTS=50, BENCH_WARMUP=5, BENCH_REPLAYS=5)
 */
import Anthropic from '@anthropic-ai/sdk';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import { hostTools } from '../src/connectors/host/tools.ts';
import { driveObservation } from '../src/connectors/smart/collect.ts';
import { SmartReader } from '../src/connectors/smart/read.ts';
import { smartTools } from '../src/connectors/smart/tools.ts';
import { ZfsReader } from '../src/connectors/zfs/read.ts';
import { zfsTools } from '../src/connectors/zfs/tools.ts';
import { mergeAnomalies } from '../src/incidents/merge.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { incidentTools } from '../src/incidents/tools.ts';
import type { Anomaly, Incident } from '../src/incidents/types.ts';
import { contextFor, evaluateRule, rulesFor } from '../src/rules/evaluate.ts';
import { loadRules } from '../src/rules/load.ts';
import { numericValues, type HistoryPoint } from '../src/rules/observation.ts';
import { createLogger, makeScrubber } from '../src/telemetry/log.ts';
import { Metrics } from '../src/telemetry/metrics.ts';
import type { AuditEntry, AuditLog } from '../src/tools/audit.ts';
import { runTool } from '../src/tools/run.ts';
import type { ToolSpec } from '../src/tools/types.ts';
import { AiTriager, toolDefinitions } from '../src/triage/agent.ts';
import { deterministicReport } from '../src/triage/deterministic.ts';
import { SUBMIT_TOOL, systemPrompt, incidentMessage, reportInput, untrusted, type ReportInput } from '../src/triage/prompt.ts';
import type { Report } from '../src/triage/report.ts';
import { agentSettings } from '../src/triage/settings.ts';
import { sharedFixture } from '../test/helpers/fixtures.ts';

const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const REPLAYS = Number(process.env.BENCH_REPLAYS ?? 5);
const API_KEY = 'lw-bench-key-0123456789'; // a fake key; the scripted server ignores it
const HOST = 'nas';
const NOW = new Date('2026-11-24T10:00:00.000Z');
const BIN = fileURLToPath(new URL('../test/bin/', import.meta.url));
const SMART = sharedFixture('smartctl');
const ZPOOL = sharedFixture('zpool');
const RULES = fileURLToPath(new URL('../rules/', import.meta.url));
const FAILING = 'MSK423Y20S3HBC'; // the serial in sata-hdd-failing-usb-jmicron-reallocated-exit216.json

function fail(msg: string): never {
  console.error(`bench/triage.ts: ${msg}`);
  process.exit(1);
}

// ---- fixtures for the fake executables: four drives (one failing), one degraded pool
const work = mkdtempSync(join(tmpdir(), 'labwatch-bench-triage-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true })); // also when fail() exits
const smartAt = join(work, 'smartctl'), zpoolAt = join(work, 'zpool');
for (const d of [smartAt, zpoolAt]) mkdirSync(d);
const drives = [
  { dev: 'sda', type: 'usbjmicron', protocol: 'ATA', fixture: 'sata-hdd-failing-usb-jmicron-reallocated-exit216.json', exit: 216 },
  { dev: 'sdb', type: 'sat', protocol: 'ATA', fixture: 'sata-hdd-healthy-wd-red-wd20efrx.json', exit: 0 },
  { dev: 'sdc', type: 'sat', protocol: 'ATA', fixture: 'sata-ssd-healthy-samsung-860evo-xall.json', exit: 0 },
  { dev: 'nvme0', type: 'nvme', protocol: 'NVMe', fixture: 'nvme-healthy-samsung-970evoplus.json', exit: 0 },
];
const scan = JSON.parse(readFileSync(join(SMART, 'scan-json.json'), 'utf8')) as { devices: unknown[] };
scan.devices = drives.map((d) => ({ name: `/dev/${d.dev}`, info_name: `/dev/${d.dev}`, type: d.type, protocol: d.protocol }));
writeFileSync(join(smartAt, 'scan.json'), JSON.stringify(scan, null, 2));
for (const d of drives) {
  copyFileSync(join(SMART, d.fixture), join(smartAt, `${d.dev}.json`));
  writeFileSync(join(smartAt, `${d.dev}.exit`), String(d.exit));
}
copyFileSync(join(ZPOOL, 'status-degraded-unavail-was-path-cksum-errors.txt'), join(zpoolAt, 'status.txt'));
copyFileSync(join(ZPOOL, 'list-p-two-pools-degraded.txt'), join(zpoolAt, 'list.txt'));
process.env.FAKE_SMARTCTL_DIR = smartAt;
process.env.FAKE_ZPOOL_DIR = zpoolAt;
const keyFile = join(work, 'anthropic-key');
writeFileSync(keyFile, API_KEY + '\n', { mode: 0o600 });

// ---- the scripted model: a loopback Messages API that answers each request with the next scripted step
interface Step { id: string; name: string; input: unknown }
class ScriptedServer {
  readonly bodies: string[] = [];
  #script: string[] = [];
  #server: Server;
  url = '';
  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.bodies.push(raw);
        const body = this.#script.shift();
        if (!body) return void res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"type":"error","error":{"type":"api_error","message":"script exhausted"}}');
        res.writeHead(200, { 'Content-Type': 'application/json', 'request-id': 'req_bench' }).end(body);
      });
    });
  }
  /** The responses for the next requests, in order; forgets the recorded bodies. */
  script(steps: Step[]): void {
    this.#script = steps.map((s) =>
      JSON.stringify({
        id: `msg_bench_${s.id}`, type: 'message', role: 'assistant', model: 'scripted',
        content: [{ type: 'tool_use', id: `toolu_bench_${s.id}`, name: s.name, input: s.input }],
        stop_reason: 'tool_use', stop_sequence: null,
        // Not a tokenizer: labwatch only sums these into its footer and its token budget (80 000 by default).
        usage: { input_tokens: 500, output_tokens: 150, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      }),
    );
    this.bodies.length = 0;
  }
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- the incident: the shipped rules on the failing drive's observation, with a history behind it
const smartReader = new SmartReader({ smartctl: join(BIN, 'smartctl') });
const failing = (await smartReader.readAll()).find((d) => d.serial === FAILING) ?? fail(`fake smartctl did not show drive ${FAILING}`);
const obs = driveObservation(failing, HOST, NOW.toISOString());
const now = numericValues(obs.values);
/** 500 readings every 30 min (HISTORY_MAX at the default SMART schedule): reallocated sectors creeping up, pending ones appearing. */
const history: HistoryPoint[] = Array.from({ length: 500 }, (_, i) => {
  const left = 500 - i; // readings before now
  const values: Record<string, number> = { ...now, reallocated_sectors: (now.reallocated_sectors ?? 0) - Math.ceil(left / 8), pending_sectors: left > 40 ? 0 : (now.pending_sectors ?? 0) };
  if (values.power_on_hours !== undefined) values.power_on_hours -= Math.floor(left / 2);
  return { at: new Date(NOW.getTime() - left * 1_800_000).toISOString(), values };
});
const ctx = contextFor(obs, history.at(-1)!.values, history, NOW);
const anomalies: Anomaly[] = rulesFor(loadRules(RULES).rules, obs).flatMap((r) => evaluateRule(r, obs, ctx, undefined).anomaly ?? []);
const incident: Incident = mergeAnomalies(null, anomalies, NOW.toISOString())?.incident ?? fail('the failing drive raised no anomaly');

// ---- the tools, in buildToolbox's order (src/registry.ts); run() timed with performance.now
let toolMs = 0;
const timed = (t: ToolSpec): ToolSpec => ({
  ...t,
  run: async (input, signal) => {
    const t0 = performance.now();
    try { return await t.run(input, signal); } finally { toolMs += performance.now() - t0; }
  },
});
const store = { listRecent: async () => [incident], getIncident: async (id: string) => (id === incident.id ? incident : null) };
const reports = { getReport: async () => null, triageCost: async () => null };
const tools = [
  ...incidentTools(store as unknown as IncidentStore, reports),
  ...smartTools(smartReader, async (subject) => (subject === obs.subject ? history : [])),
  ...zfsTools(new ZfsReader({ zpool: join(BIN, 'zpool') })),
  ...hostTools(), // offered, never called: the host read would measure this machine
].map(timed);

class MemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async record(e: AuditEntry): Promise<void> { this.entries.push(e); }
}
const audit = new MemoryAudit();

// ---- what the model asks for, and the report it submits
const CALLS: { name: string; input: Record<string, unknown> }[] = [
  { name: 'smart_list_drives', input: {} },
  { name: 'smart_drive_health', input: { drive: FAILING } },
  { name: 'smart_drive_history', input: { drive: obs.subject } },
  { name: 'zfs_list_pools', input: {} },
  { name: 'zfs_pool_status', input: { pool: 'mypool' } },
];
const REPORT: ReportInput = reportInput.parse({
  summary: `Drive ${FAILING} (/dev/sda, behind a USB JMicron bridge) is failing: SMART says FAILING, attribute 5 is at its threshold now with 1975 reallocated sectors, and 8 sectors are pending. Pool mypool is already DEGRADED with one mirror member unavailable.`,
  facts: [
    { text: 'SMART overall health is FAILED; smartctl exit status 216 (disk failing, prefail attribute at threshold, error and self-test logs have errors)', tool_call: `smart_drive_health {"drive":"${FAILING}"}` },
    { text: '1975 reallocated sectors (attribute 5, when_failed now) and 8 pending sectors', tool_call: `smart_drive_health {"drive":"${FAILING}"}` },
    { text: 'reallocated sectors grew by 6 over the last day (one every 4 hours); the 8 pending sectors appeared about 20 hours ago', tool_call: `smart_drive_history {"drive":"${obs.subject}"}` },
    { text: 'the other three drives are healthy', tool_call: 'smart_list_drives {}' },
    { text: 'mypool is DEGRADED: mirror-0 has one member UNAVAIL with 100980 checksum errors, was /dev/disk/by-id/ata-ST8000DM004-…-part1', tool_call: 'zfs_pool_status {"pool":"mypool"}' },
  ],
  causes: [
    { text: 'The disk surface is degrading: remapped and pending sectors are growing', confidence: 'high' },
    { text: 'The USB bridge hides part of the drive state; the error log entries may partly be bridge resets', confidence: 'low' },
  ],
  actions: [
    { text: `Back up what lives only on ${FAILING} today`, urgency: 'now' },
    { text: `Replace drive ${FAILING} within 7 days`, urgency: 'soon' },
    { text: "Replace mypool's unavailable mirror member with 'zpool replace' and scrub afterwards", urgency: 'soon' },
  ],
  not_checked: ['whether the failing drive belongs to a pool (its device does not appear in zpool status)', 'the host itself (host_overview)'],
});
const STEPS: Step[] = [...CALLS.map((c, i) => ({ id: `0${i + 1}`, ...c })), { id: '06', name: SUBMIT_TOOL, input: REPORT }];
const BASE_STEPS: Step[] = [{ id: '01', name: SUBMIT_TOOL, input: REPORT }];

// ---- the runs
const api = await new ScriptedServer().start();
writeFileSync(join(work, 'labwatch.yaml'), `anthropic:\n  api_key_file: ${keyFile}\n  base_url: ${api.url}\n`);
const settings = agentSettings(loadConfig(join(work, 'labwatch.yaml'), {})) ?? fail('no agent settings');
const log = createLogger({ level: 'error', destination: { write() {} } });
const triager = new AiTriager(settings, tools, audit, new Metrics(), log, [API_KEY]);
const bare = new Anthropic({ apiKey: API_KEY, baseURL: api.url, maxRetries: 0, timeout: 60_000 });
const scrub = makeScrubber([API_KEY]);

/**
 * Replays recorded bodies with a bare SDK client, REPLAYS times: the median time of one pass is the
 * HTTP + SDK + server time of those requests (one pass alone varies by a few ms, as much as the overhead).
 */
async function replay(bodies: string[], steps: Step[]): Promise<number> {
  const passes: number[] = [];
  for (let p = 0; p < REPLAYS; p++) {
    api.script(steps);
    let ms = 0;
    for (const raw of bodies) {
      const t0 = performance.now();
      await bare.messages.create(JSON.parse(raw) as Anthropic.MessageCreateParamsNonStreaming);
      ms += performance.now() - t0;
    }
    if (api.bodies.length !== bodies.length || api.bodies.some((b, i) => b !== bodies[i])) fail('a replayed body differs from the recorded one');
    passes.push(ms);
  }
  return passes.sort((a, b) => a - b)[Math.floor(passes.length / 2)]!;
}

interface Sample { wall: number; http: number; tools: number; auditMs: number; bodies: string[] }

async function loopOnce(): Promise<Sample> {
  api.script(STEPS);
  audit.entries.length = 0;
  toolMs = 0;
  const t0 = performance.now();
  const report = await triager.investigate(incident);
  const wall = performance.now() - t0;
  const tools = toolMs, bodies = [...api.bodies];
  if (report.producer !== 'ai') fail(`the loop fell back to the deterministic report: ${report.notes.join(' ')}`);
  if (bodies.length !== STEPS.length) fail(`expected ${STEPS.length} requests, the server got ${bodies.length}`);
  const bad = audit.entries.filter((e) => e.outcome !== 'ok');
  if (audit.entries.length !== CALLS.length || bad.length) fail(`tool calls: ${audit.entries.map((e) => `${e.tool}=${e.outcome}`).join(', ')}`);
  const auditMs = audit.entries.reduce((s, e) => s + e.durationMs, 0);
  return { wall, http: await replay(bodies, STEPS), tools, auditMs, bodies };
}

/** The baseline: the same 5 diagnostics run up front and inlined in one request; only submit_report offered. */
async function baselineOnce(): Promise<Sample> {
  api.script(BASE_STEPS);
  audit.entries.length = 0;
  toolMs = 0;
  const t0 = performance.now();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const blocks: string[] = [];
  for (const c of CALLS) {
    const r = await runTool(byName.get(c.name)!, c.input, audit, { caller: 'triage', incident: incident.id, maxBytes: settings.toolResultBytes });
    blocks.push(`${c.name} ${JSON.stringify(c.input)}:\n` + scrub(untrusted(`tool:${c.name}`, { status: r.status, text: r.text, data: r.data ?? null })));
  }
  const content = scrub(incidentMessage(incident)) + `\n\nlabwatch ran these diagnostics; their results are below as untrusted data.\n\n${blocks.join('\n\n')}`;
  const response = await bare.messages.create({
    model: settings.model,
    max_tokens: settings.maxTokens,
    system: [{ type: 'text', text: systemPrompt(tools), cache_control: { type: 'ephemeral' } }],
    tools: toolDefinitions([], true),
    tool_choice: { type: 'tool', name: SUBMIT_TOOL },
    messages: [{ role: 'user', content }],
  });
  const use = response.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === SUBMIT_TOOL);
  const a = reportInput.parse(use?.input);
  const report: Report = {
    ...deterministicReport(incident),
    producer: 'ai',
    summary: a.summary,
    facts: a.facts.map((f) => ({ text: f.text, source: f.tool_call })),
    causes: a.causes,
    actions: a.actions,
    notes: [`Not checked: ${a.not_checked.join('; ')}.`],
  };
  const wall = performance.now() - t0;
  const tools_ = toolMs, bodies = [...api.bodies];
  if (report.facts.length !== REPORT.facts.length || bodies.length !== 1) fail('the baseline did not get its report');
  if (audit.entries.some((e) => e.outcome !== 'ok')) fail(`baseline tool calls: ${audit.entries.map((e) => `${e.tool}=${e.outcome}`).join(', ')}`);
  const auditMs = audit.entries.reduce((s, e) => s + e.durationMs, 0);
  return { wall, http: await replay(bodies, BASE_STEPS), tools: tools_, auditMs, bodies };
}

const loop: Sample[] = [], base: Sample[] = [];
const started = performance.now();
try {
  for (let i = 0; i < WARMUP; i++) await loopOnce(), await baselineOnce();
  for (let i = 0; i < INCIDENTS; i++) {
    loop.push(await loopOnce());
    base.push(await baselineOnce());
  }
} finally {
  await api.stop();
}
const elapsed = (performance.now() - started) / 1000;

// ---- bytes: from the recorded bodies
interface Body { system: { cache_control?: unknown }[]; tools: { name: string; cache_control?: unknown }[]; messages: { content: unknown }[]; tool_choice: { type: string } }
const bytes = (s: string) => Buffer.byteLength(s);
function anatomy(bodies: string[]) {
  let prefixText: string | undefined;
  const where = new Map<string, number>();
  const rows = bodies.map((raw, i) => {
    const b = JSON.parse(raw) as Body;
    const sys = JSON.stringify(b.system), tls = JSON.stringify(b.tools);
    if (!raw.includes(`"system":${sys}`) || !raw.includes(`"tools":${tls}`)) fail(`request ${i + 1}: system/tools not found verbatim in the raw body`);
    if (prefixText !== undefined && prefixText !== sys + tls) fail(`request ${i + 1}: the prefix (tools + system) differs from request 1`);
    prefixText = sys + tls;
    const mark = (k: string) => where.set(k, (where.get(k) ?? 0) + 1);
    b.system.forEach((s, j) => s.cache_control && mark(`system[${j}] ${JSON.stringify(s.cache_control)}`));
    b.tools.forEach((t, j) => t.cache_control && mark(`tools[${j}] (${t.name})`));
    b.messages.forEach((m, j) => JSON.stringify(m.content).includes('"cache_control"') && mark(`messages[${j}]`));
    return { total: bytes(raw), prefix: bytes(sys) + bytes(tls), messages: bytes(JSON.stringify(b.messages)), choice: b.tool_choice.type, tools: b.tools.length };
  });
  const total = rows.reduce((s, r) => s + r.total, 0), prefix = rows[0]!.prefix;
  // labwatch also puts a moving breakpoint on the newest message, so request i reads request i-1's
  // whole conversation from the cache: check it is a verbatim prefix (markers aside) and count it.
  const MARK = ',"cache_control":{"type":"ephemeral"}';
  const convo = bodies.map((raw) => JSON.stringify((JSON.parse(raw) as Body).messages).split(MARK).join(''));
  let conversationCached = 0;
  convo.forEach((c, i) => {
    if (i === 0) return;
    const before = convo[i - 1]!.slice(0, -1); // without its closing ]
    if (!c.startsWith(before)) fail(`request ${i + 1}: the conversation does not extend request ${i}'s verbatim`);
    conversationCached += prefix + bytes(before);
  });
  return { rows, total, prefix, cached: total - prefix * (rows.length - 1), cachedConversation: total - conversationCached, where };
}
const la = anatomy(loop[0]!.bodies), ba = anatomy(base[0]!.bodies);
for (const s of loop) if (s.bodies.reduce((n, b) => n + bytes(b), 0) !== la.total) fail('the loop sent a different number of bytes in another incident');
for (const s of base) if (s.bodies.reduce((n, b) => n + bytes(b), 0) !== ba.total) fail('the baseline sent a different number of bytes in another incident');

// ---- print
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => sorted(xs)[Math.max(0, Math.ceil(p * xs.length) - 1)]!;
const med = (xs: number[]) => pct(xs, 0.5);
const over = (s: Sample) => s.wall - s.http - s.tools;
const f2 = (n: number) => n.toFixed(2), big = (n: number) => Math.round(n).toLocaleString('en-US');
const pad = (s: string | number, n: number) => String(s).padStart(n);
const lo = loop.map(over), bo = base.map(over);

console.log(`labwatch triage benchmark  ${new Date().toISOString()}  Node ${process.version}  ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'})`);
console.log(`${INCIDENTS} incidents after ${WARMUP} warm-up, loop and baseline interleaved; ${elapsed.toFixed(1)} s in all; model ${settings.model}, labwatch's default agent settings`);
console.log(`incident ${incident.id}: "${incident.title}" (${incident.severity}, ${Object.keys(incident.anomalies).length} anomalies: ${Object.values(incident.anomalies).map((a) => a.rule).join(', ')})`);
console.log(`tools offered: ${tools.length} + ${SUBMIT_TOOL}; called: ${CALLS.map((c) => `${c.name} ${JSON.stringify(c.input)}`).join(', ')}\n`);

console.log(`${''.padEnd(30)}${''.padStart(9)}${''.padStart(12)}${pad('uncached', 12)}${pad('overhead ms', 15)}${''.padStart(8)}${pad('tool ms', 10)}${pad('audit', 8)}`);
console.log(`${'per incident'.padEnd(30)}${pad('requests', 9)}${pad('bytes sent', 12)}${pad('bytes', 12)}${pad('median', 15)}${pad('p95', 8)}${pad('median', 10)}${pad('ms', 8)}`);
const line = (label: string, n: number, sent: number, uncached: number, o: number[], s: Sample[]) =>
  console.log(`${label.padEnd(30)}${pad(n, 9)}${pad(big(sent), 12)}${pad(big(uncached), 12)}${pad(f2(med(o)), 15)}${pad(f2(pct(o, 0.95)), 8)}${pad(f2(med(s.map((x) => x.tools))), 10)}${pad(med(s.map((x) => x.auditMs)), 8)}`);
line('agent loop (no cache)', la.rows.length, la.total, la.total, lo, loop);
line('agent loop (tools+system)', la.rows.length, la.total, la.cached, lo, loop);
line('agent loop (+conversation)', la.rows.length, la.total, la.cachedConversation, lo, loop);
line('single inlined request', ba.rows.length, ba.total, ba.total, bo, base);
console.log(`loop / single request: bytes sent ${(la.total / ba.total).toFixed(2)}x, uncached ${(la.total / ba.total).toFixed(2)}x without cache, ${(la.cached / ba.total).toFixed(2)}x with tools+system cached, ${(la.cachedConversation / ba.total).toFixed(2)}x with the conversation cached too (what labwatch sends); overhead ${(med(lo) / med(bo)).toFixed(2)}x (medians)`);
console.log('(the three loop rows are one measurement: caching changes what the API processes as new input, not what is sent or the local time)\n');

console.log(`HTTP time subtracted (replayed round trips, median): loop ${f2(med(loop.map((s) => s.http)))} ms for ${la.rows.length} requests, single request ${f2(med(base.map((s) => s.http)))} ms`);
console.log(`wall time (median): loop ${f2(med(loop.map((s) => s.wall)))} ms, single request ${f2(med(base.map((s) => s.wall)))} ms`);
console.log(`stable prefix (tools + system): ${big(la.prefix)} bytes in each loop request (${la.rows[0]!.tools} tool definitions), ${big(ba.prefix)} in the single request (${ba.rows[0]!.tools})`);
const marks = (w: Map<string, number>, n: number) => (w.size ? [...w].map(([k, c]) => `${k} in ${c}/${n} requests`).join('; ') : 'none');
console.log(`cache_control found: loop: ${marks(la.where, la.rows.length)}; single request: ${marks(ba.where, ba.rows.length)}`);
const last = JSON.parse(loop[0]!.bodies.at(-1)!) as { messages: { content: unknown }[] };
const results = last.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type: string; content?: unknown }[]) : []))
  .filter((b) => b.type === 'tool_result' && typeof b.content === 'string').map((b) => b.content as string);
const escaped = (xs: string[]) => `${big(xs.reduce((n, x) => n + bytes(x), 0))} bytes of text, ${big(xs.reduce((n, x) => n + bytes(JSON.stringify(x)), 0))} as JSON strings in the body`;
const inlined = (JSON.parse(base[0]!.bodies[0]!) as { messages: { content: string }[] }).messages[0]!.content;
console.log(`tool results: loop ${results.length} results, ${escaped(results)}; single request's user message ${escaped([inlined])}`);
console.log('\nloop requests   bytes   prefix  messages  tool_choice');
la.rows.forEach((r, i) => console.log(`  ${pad(i + 1, 2)}     ${pad(big(r.total), 9)} ${pad(big(r.prefix), 8)} ${pad(big(r.messages), 9)}  ${r.choice}`));
console.log(`  single   ${pad(big(ba.rows[0]!.total), 9)} ${pad(big(ba.prefix), 8)} ${pad(big(ba.rows[0]!.messages), 9)}  ${ba.rows[0]!.choice}`);
process.exit(0);
