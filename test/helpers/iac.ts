/**
 * Infrastructure code for the IaC tests: real files from test/fixtures/iac (SOURCES.md there) taken
 * as they are, and the few variants a case needs made from them here, at run time, so no real file
 * is kept twice and each change is stated where it is made (test/fixtures-derived/iac/from-real/SOURCES.md
 * lists them too). A case's folder is put together in a temporary directory removed after the test.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REAL_IAC = fileURLToPath(new URL('../fixtures/iac/', import.meta.url));
export const DERIVED_IAC = fileURLToPath(new URL('../fixtures-derived/iac/from-real/', import.meta.url));

/** A folder of the given files: a path is copied, `{ text }` is written. */
export async function assemble(t: TestContext, files: Record<string, string | { text: string }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'labwatch-iac-case-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, from] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    if (typeof from === 'string') await copyFile(from, join(dir, name));
    else await writeFile(join(dir, name), from.text);
  }
  return dir;
}

const real = (path: string) => readFile(join(REAL_IAC, path), 'utf8');

/** Splits off the first line (the `resource … {` line) so attributes can be added right under it. */
function afterFirstLine(text: string, added: string): string {
  const nl = text.indexOf('\n') + 1;
  return text.slice(0, nl) + added + text.slice(nl);
}

/** kyrbrbik's full-clone.tf with its closing `}` removed: a file that does not parse. */
export async function brokenFullClone(): Promise<{ text: string }> {
  return { text: (await real('telmate/kyrbrbik-terraform/full-clone.tf')).replace(/\}\n$/, '') };
}

/** Securitybits' ansible-host.tf with `count = n` added and its name made `ansible-host-${count.index}`. */
export async function countedAnsibleHost(n: number): Promise<{ text: string }> {
  const text = afterFirstLine(await real('telmate/securitybits-homelab/ansible-host.tf'), `    count = ${n}\n`);
  return { text: text.replace('name = "ansible-host"', 'name = "ansible-host-${count.index}"') };
}

/** kyrbrbik's full-clone.tf with `count = var.replicas` (a variable without a default) and a name made from count.index. */
export async function replicatedFullClone(): Promise<{ text: string }> {
  const text = afterFirstLine(await real('telmate/kyrbrbik-terraform/full-clone.tf'), '  count = var.replicas\n  name = "ubuntu-server-${count.index}"\n');
  return { text: `variable "replicas" {}\n\n${text}` };
}
