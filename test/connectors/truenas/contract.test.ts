/**
 * labwatch may send a NAS only what a READONLY_ADMIN account may call. Checked against the real
 * 25.04 `core.get_methods` answer (shared/fixtures/truenas, truenas-go's capture): every method in
 * TRUENAS_METHODS exists there, and every read lists READONLY_ADMIN in its roles. Add later
 * releases' dumps beside it as they are captured.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TRUENAS_METHODS } from '../../../src/connectors/truenas/read.ts';
import { coreGetMethods } from '../../helpers/truenas.ts';

/** Called before logging in: the dump marks them no_auth_required. */
const LOGIN = new Set(['auth.login_ex', 'auth.login_with_api_key']);
/**
 * The method that produced the dump is not listed in it (nor in any other release's published
 * method list we found), so its roles cannot be checked here: it is the one exception. Any
 * authenticated session calls it (truenas-go and api-client-ts call it after an API-key login).
 */
const DISCOVERY = 'core.get_methods';

test('every method labwatch can send exists in TrueNAS 25.04 and is allowed to READONLY_ADMIN', () => {
  const methods = coreGetMethods() as Record<string, { roles: string[]; no_auth_required: boolean; job: boolean }>;
  const problems: string[] = [];
  for (const m of TRUENAS_METHODS) {
    if (m === DISCOVERY) continue;
    const d = methods[m];
    if (!d) problems.push(`${m}: not a TrueNAS 25.04 method`);
    else if (LOGIN.has(m)) {
      if (!d.no_auth_required) problems.push(`${m}: expected a login method (no_auth_required)`);
    } else if (!d.roles.includes('READONLY_ADMIN')) problems.push(`${m}: READONLY_ADMIN may not call it (roles: ${d.roles.join(', ') || 'none'})`);
    else if (d.job) problems.push(`${m}: a job (it would start work on the NAS)`);
  }
  assert.deepEqual(problems, []);
});

test('the code sends no method name outside TRUENAS_METHODS', () => {
  const dir = fileURLToPath(new URL('../../../src/connectors/truenas/', import.meta.url));
  const sent = new Set<string>();
  for (const f of ['read.ts', 'rpc.ts']) {
    const src = readFileSync(dir + f, 'utf8');
    for (const m of src.matchAll(/'([a-z_]+(?:\.[a-z_]+)+)', (?:\[|\(\) =>)/g)) sent.add(m[1]!);
  }
  assert.ok(sent.size >= 14, `found ${[...sent].join(', ')}`);
  assert.deepEqual([...sent].filter((m) => !(TRUENAS_METHODS as readonly string[]).includes(m)), []);
});
