/**
 * Checking Terraform labwatch wrote (or a model suggested) before anyone sees it: it must parse with
 * the HCL parser `iac drift` reads code with, and, where a `terraform` or `tofu` binary is installed,
 * pass `terraform fmt -check`. Never `init`, `plan` or `validate`: those need provider plugins, which
 * cannot be downloaded on these machines.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../exec.ts';
import { onPath } from '../../binary.ts';
import { parseHcl } from './hcl.ts';

type Fmt = 'ok' | 'differs' | 'no terraform binary';

const BINARIES = ['terraform', 'tofu'] as const;

/** The temporary file's path, however a tool prints it (absolute, relative to here), becomes `main.tf`. */
const plain = (text: string): string => text.replace(/[^\s"'[]*labwatch-iac-check-[^\s/"']*\/main\.tf|(?:\.\.\/)*\.\.main\.tf/g, 'main.tf');

/**
 * The environment `terraform fmt` gets: only what it needs to run, never labwatch's own (API tokens,
 * provider credentials such as PM_API_TOKEN_SECRET or PROXMOX_VE_PASSWORD would otherwise reach it).
 */
function fmtEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

/** Does the text parse, and is it laid out as `terraform fmt` would lay it out? */
export async function checkTerraform(text: string, signal?: AbortSignal): Promise<{ problems: string[]; fmt: Fmt }> {
  const problems: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'labwatch-iac-check-'));
  try {
    const file = join(dir, 'main.tf');
    await writeFile(file, text, { mode: 0o600 });
    try {
      await parseHcl(file, text);
    } catch (e) {
      problems.push(`the Terraform does not parse: ${plain(e instanceof Error ? e.message : String(e))}`);
    }
    const binary = BINARIES.find((b) => onPath(b));
    if (!binary) return { problems, fmt: 'no terraform binary' };
    // a file, not stdin: exec.ts gives a command no input; -no-color keeps the diff plain text
    const r = await run(binary, ['fmt', '-check', '-diff', '-no-color', file], {
      timeoutMs: 20_000,
      ...(signal ? { signal } : {}),
      env: fmtEnv(),
    });
    if (r.code === 0) return { problems, fmt: 'ok' };
    const diff = plain(r.stdout).trim();
    // fmt exits 3 when only the layout differs; any other failure (a syntax error) says so on stderr,
    // after a warning about a missing ~/.terraformrc that is no concern here
    const error = plain(r.stderr.slice(Math.max(0, r.stderr.indexOf('Error:')))).trim();
    problems.push(r.code === 3 ? `${binary} fmt would change the layout:\n${diff}` : `${binary} fmt -check failed (exit ${r.code}): ${error || diff}`);
    return { problems, fmt: 'differs' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
