/**
 * checkTerraform runs `terraform fmt` with only what it needs: labwatch's environment holds API tokens
 * and provider credentials (PM_API_TOKEN_SECRET, PROXMOX_VE_PASSWORD…) that must not reach another program.
 * A stand-in `terraform` first on PATH prints the environment it was given as its "diff".
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { it } from 'node:test';
import { checkTerraform } from '../../../../src/connectors/proxmox/iac/check.ts';

it('gives terraform fmt PATH, HOME and the automation switches, never the rest of the environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'labwatch-fake-terraform-'));
  const saved = { PATH: process.env.PATH, secret: process.env.PM_API_TOKEN_SECRET };
  try {
    await writeFile(join(dir, 'terraform'), '#!/bin/sh\nenv\nexit 3\n');
    await chmod(join(dir, 'terraform'), 0o755);
    process.env.PATH = `${dir}${delimiter}${saved.PATH ?? ''}`;
    process.env.PM_API_TOKEN_SECRET = 'labwatch-test-not-a-real-secret';
    const r = await checkTerraform('resource "proxmox_lxc" "x" {\n  vmid = 1\n}\n');
    assert.equal(r.fmt, 'differs');
    const env = r.problems.join('\n');
    assert.match(env, /^PATH=/m);
    assert.match(env, /^CHECKPOINT_DISABLE=1$/m);
    assert.match(env, /^TF_IN_AUTOMATION=1$/m);
    assert.doesNotMatch(env, /PM_API_TOKEN_SECRET|labwatch-test-not-a-real-secret/);
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.secret === undefined) delete process.env.PM_API_TOKEN_SECRET;
    else process.env.PM_API_TOKEN_SECRET = saved.secret;
    await rm(dir, { recursive: true, force: true });
  }
});
