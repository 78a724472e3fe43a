/**
 * config/labwatch.example.yaml documents every key labwatch knows, with its real default, and
 * still loads as a config. The keys and defaults come from the zod schema itself (core blocks,
 * every channel's and connector's block), so a key added there and not here fails this test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { configSchema } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { compareExample, schemaKeys, uncomment, valuesAt } from './example-keys.ts';

const EXAMPLE_FILE = new URL('../../config/labwatch.example.yaml', import.meta.url).pathname;
const EXAMPLE = readFileSync(EXAMPLE_FILE, 'utf8');
const KEYS = schemaKeys(configSchema);

/** The example with one line (found by its text) taken out, or changed. */
function edited(find: string, replace?: string): string {
  const lines = EXAMPLE.split('\n');
  const i = lines.findIndex((l) => l.includes(find));
  assert.ok(i >= 0, `the example has a line with ${JSON.stringify(find)}`);
  if (replace === undefined) lines.splice(i, 1);
  else lines[i] = lines[i]!.replace(find, replace);
  return lines.join('\n');
}

test('the schema walk finds the keys of every block: core, channels, connectors, triage', () => {
  const paths = KEYS.map((k) => k.path);
  for (const p of ['host', 'role', 'redis.url', 'notify.public_url', 'notify.email.tls_verify', 'notify.routes[].mode', 'anthropic.base_url', 'anthropic.max_tokens', 'audit.file', 'watch.smart.smartctl', 'mcp.servers[].header_files', 'proxmox.iac.paths', 'opnsense.tls_verify'])
    assert.ok(paths.includes(p), `${p} is among the ${paths.length} keys found`);
  assert.ok(paths.length > 150, `${paths.length} keys`);
});

test('the defaults read from the schema are the ones labwatch uses (configSchema.parse({}))', () => {
  const parsed = configSchema.parse({});
  let compared = 0;
  for (const k of KEYS) {
    if (!('default' in k) || k.path.includes('[]')) continue;
    const used = valuesAt(parsed, k.path);
    if (used.length === 0) continue; // inside a block that is absent by default (notify.email, proxmox …)
    compared++;
    assert.ok(isDeepStrictEqual(used[0], k.default), `${k.path}: schema says ${JSON.stringify(k.default)}, parse({}) gives ${JSON.stringify(used[0])}`);
  }
  assert.ok(compared > 60, `${compared} defaults compared`);
});

test('every key labwatch knows is in the example, active or as a commented "# key:" line under its block', () => {
  const { missing } = compareExample(EXAMPLE, KEYS);
  assert.deepEqual(missing, [], `add these to config/labwatch.example.yaml: ${missing.join(', ')}`);
});

test('every default the example shows is the schema default', () => {
  const { wrongDefaults } = compareExample(EXAMPLE, KEYS);
  assert.deepEqual(wrongDefaults, []);
});

test('the example holds no key labwatch does not know (a typo, or an explanation read as a setting)', () => {
  const { unknown } = compareExample(EXAMPLE, KEYS);
  assert.deepEqual(unknown, []);
});

test('the example loads as a valid config, as it is (what labwatch check --config reads)', () => {
  const cfg = loadConfig(EXAMPLE_FILE, {});
  assert.equal(cfg.role, 'all');
  assert.equal(cfg.anthropic.max_tokens, 2048);
});

test('a commented setting is uncommented at its block: "  #   host:" under "  # email:" under notify', () => {
  const text = 'notify:\n  # email:\n  #   host: smtp.lan   # the relay\n  #   # urls_file: /x\n  # The relay: any SMTP server\n';
  assert.equal(uncomment(text), 'notify:\n  email:\n    host: smtp.lan   # the relay\n    urls_file: /x\n  # The relay: any SMTP server\n');
});

test('the check fails when a key is left out, a default is wrong, or a key is misspelt', () => {
  assert.deepEqual(compareExample(edited('  max_tokens: 2048'), KEYS).missing, ['anthropic.max_tokens']);
  assert.deepEqual(compareExample(edited('#   tls_verify: true'), KEYS).missing, ['notify.email.tls_verify']);
  assert.deepEqual(compareExample(edited('# public_url:'), KEYS).missing, ['notify.public_url']);
  assert.deepEqual(compareExample(edited('    changes: 4', '    changes: 5'), KEYS).wrongDefaults, [{ path: 'notify.flapping.changes', shown: 5, default: 4 }]);
  assert.deepEqual(compareExample(edited('#   timeout: 15s', '#   timeout: 10s'), KEYS).wrongDefaults, [{ path: 'notify.gotify.timeout', shown: '10s', default: '15s' }]);
  assert.deepEqual(compareExample(edited('  jitter: 20s', '  jiter: 20s'), KEYS).unknown, ['watch.jiter']);
});
