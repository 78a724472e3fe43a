/**
 * `labwatch iac drift|generate`: infrastructure as code against the live Proxmox cluster, run as
 * the iac_drift and iac_generate tools (validated, audited as caller cli), the same ones Claude
 * calls. The exit code comes from the tool's data: drift 1, in sync 0, could not compare (or code
 * that could not be read) 2. Only the tools this needs are built: no incident tools.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { secretValues } from '../config/schema.ts';
import type { ProxmoxConfig } from '../connectors/proxmox/config.ts';
import { buildToolbox } from '../registry.ts';
import { createLogger } from '../telemetry/log.ts';
import { runTool } from '../tools/run.ts';
import type { ToolResult } from '../tools/types.ts';
import { storeConnection } from '../util/redis.ts';
import { configOrExit } from './common.ts';

/** A whole cluster's comparison or code is larger than what a model may read at once. */
const CLI_LIMITS = { caller: 'cli' as const, maxBytes: 20_000_000, timeoutMs: 300_000 };

/**
 * Runs one IaC tool. `codePath`: the code the person named at the shell, which the CLI may read
 * wherever it is (proxmox.iac.paths limits what a model's tool call reads, not the person).
 */
async function call(name: string, args: Record<string, unknown>, configFile: string | undefined, codePath?: string): Promise<ToolResult> {
  const cfg = configOrExit(configFile);
  // connector blocks are not in Config's static type (registry.ts reads them by name too)
  const proxmox = (cfg as unknown as { proxmox?: ProxmoxConfig }).proxmox;
  if (!proxmox) {
    process.stderr.write(`labwatch: iac needs the proxmox: block in the config (the cluster to compare with); see README "Infrastructure as code"\n`);
    process.exit(2);
  }
  if (codePath !== undefined && !proxmox.iac.paths.includes(codePath)) proxmox.iac.paths = [...proxmox.iac.paths, codePath];
  // the audit goes to Redis as well when it answers, as every tool call does
  const redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  const connected = await redis.connect().then(() => true, () => false);
  try {
    const log = createLogger({ level: 'warn', secrets: secretValues(cfg) });
    const box = buildToolbox(cfg, connected ? { redis, log } : { log });
    const tool = box.tools.find((t) => t.name === name);
    if (!tool) {
      process.stderr.write(`labwatch: iac needs the proxmox: block in the config (the cluster to compare with); see README "Infrastructure as code"\n`);
      process.exit(2);
    }
    return await runTool(tool, args, box.audit, CLI_LIMITS);
  } finally {
    redis.disconnect();
  }
}

const guestArg = (g: string) => (/^\d+$/.test(g) ? Number(g) : g);

export async function iacDrift(path: string, opts: { config?: string; guest?: string; json?: boolean }): Promise<void> {
  const at = resolve(path);
  if (!existsSync(at)) {
    process.stderr.write(`labwatch: ${at} does not exist; give a file or folder of Terraform or Ansible code\n`);
    process.exit(2);
  }
  const r = await call('iac_drift', { path: at, ...(opts.guest ? { guest: guestArg(opts.guest) } : {}) }, opts.config, at);
  if (r.status !== 'ok') {
    process.stderr.write(`labwatch: ${r.text}\n`);
    process.exit(2);
  }
  const counts = r.data!.counts as { drifted: number; not_in_lab: number };
  const problems = (r.data!.problems ?? []) as string[];
  process.stdout.write(opts.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${r.text}\n`);
  // code that could not be read dropped its guests: what was compared is not the whole answer
  if (problems.length) {
    process.stderr.write(`labwatch: ${problems.length} problem${problems.length > 1 ? 's' : ''} reading the code; the comparison leaves out what they declare:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(2);
  }
  // unmatched code (vmid and name unknown) is neither drift nor in sync
  process.exit(counts.drifted + counts.not_in_lab > 0 ? 1 : 0);
}

export async function iacGenerate(opts: { config?: string; guest?: string; all?: boolean; provider?: string; out?: string }): Promise<void> {
  if (!opts.all === !opts.guest || (opts.guest && !/^\d+$/.test(opts.guest))) {
    process.stderr.write('labwatch: give either --guest VMID (a number) or --all\n');
    process.exit(2);
  }
  const r = await call('iac_generate', { guest: opts.all ? 'all' : Number(opts.guest), provider: opts.provider ?? 'bpg' }, opts.config);
  if (r.status !== 'ok') {
    process.stderr.write(`labwatch: ${r.text}\n`);
    process.exit(2);
  }
  const code = String(r.data!.code);
  const check = r.data!.check as { problems: string[]; round_trip_drift: number };
  // the lines above the code: what was written and how it was checked
  const said = r.text.slice(0, r.text.length - code.length).trimEnd();
  if (opts.out) {
    writeFileSync(opts.out, code);
    process.stdout.write(`${said}\nwritten to ${opts.out}\n`);
  } else {
    // stdout stays valid HCL (`> main.tf`); the check goes to stderr
    process.stderr.write(`${said}\n`);
    process.stdout.write(code);
  }
  process.exit(check.problems.length || check.round_trip_drift ? 1 : 0);
}
