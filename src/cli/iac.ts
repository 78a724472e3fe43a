/**
 * `labwatch iac drift|generate`: infrastructure as code against the live Proxmox cluster, run as
 * the iac_drift and iac_generate tools (validated, audited as caller cli), the same ones Claude
 * calls. The exit code comes from the tool's data: drift 1, in sync 0, could not compare 2.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runTool } from '../tools/run.ts';
import type { ToolResult } from '../tools/types.ts';
import { toolbox } from './toolbox.ts';

/** A whole cluster's comparison or code is larger than what a model may read at once. */
const CLI_LIMITS = { caller: 'cli' as const, maxBytes: 20_000_000, timeoutMs: 300_000 };

async function call(name: string, args: Record<string, unknown>, configFile: string | undefined): Promise<ToolResult> {
  const box = await toolbox(configFile);
  try {
    const tool = box.all.find((t) => t.name === name);
    if (!tool) {
      process.stderr.write(`labwatch: iac needs the proxmox: block in the config (the cluster to compare with); see README "Infrastructure as code"\n`);
      process.exit(2);
    }
    return await runTool(tool, args, box.audit, CLI_LIMITS);
  } finally {
    box.redis.disconnect();
  }
}

const guestArg = (g: string) => (/^\d+$/.test(g) ? Number(g) : g);

export async function iacDrift(path: string, opts: { config?: string; guest?: string; json?: boolean }): Promise<void> {
  const r = await call('iac_drift', { path: resolve(path), ...(opts.guest ? { guest: guestArg(opts.guest) } : {}) }, opts.config);
  if (r.status !== 'ok') {
    process.stderr.write(`labwatch: ${r.text}\n`);
    process.exit(2);
  }
  const counts = r.data!.counts as { drifted: number; not_in_lab: number };
  process.stdout.write(opts.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${r.text}\n`);
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
