import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { blockSecrets } from '../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected the config to be refused');
}

test('with no file, labwatch runs on defaults: local Redis, loopback HTTP, no channels', () => {
  const cfg = loadConfig(undefined, {});
  assert.equal(cfg.source, 'defaults');
  assert.equal(cfg.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(cfg.http.listen, '127.0.0.1:9877');
  assert.equal((cfg.notify as Record<string, unknown>).email, undefined);
  assert.deepEqual(cfg.secrets, {});
});

test('the shipped example config is valid', () => {
  const cfg = loadConfig(new URL('../../config/labwatch.example.yaml', import.meta.url).pathname, {});
  assert.equal(cfg.queue.backoff, '5s');
});

test('every problem is reported at once, each with file, line, key and what is expected', () => {
  const p = file(
    'bad.yaml',
    ['redis:', '  url: http://localhost', 'http:', '  listen: 9877', 'notify:', '  email:', '    host: mail', '    to: []', '    port: "587"', ''].join('\n'),
  );
  const found = problems(() => loadConfig(p, {}));
  assert.deepEqual(found, [
    `${p}:2: redis.url: expected a redis://, rediss:// or redis+sentinel:// URL`,
    `${p}:4: http.listen: expected string, received number`,
    `${p}:7: notify.email.from: missing; expected string`,
    `${p}:8: notify.email.to: at least one recipient`,
    `${p}:9: notify.email.port: expected number, received string`,
  ]);
});

test('a listen address without a host is refused with an example', () => {
  const p = file('listen.yaml', 'http:\n  listen: ":9877"\n');
  assert.deepEqual(problems(() => loadConfig(p, {})), [`${p}:2: http.listen: expected host:port, e.g. "127.0.0.1:9877" or "[::1]:9877"`]);
});

test('a misspelt key is refused by name instead of silently ignored', () => {
  const p = file('typo.yaml', 'redis:\n  ulr: redis://x:6379\n');
  assert.deepEqual(problems(() => loadConfig(p, {})), [`${p}:2: redis: unknown key ulr`]);
});

test('an inline password is refused with a pointer to password_file', () => {
  const p = file('inline.yaml', 'notify:\n  email:\n    host: m\n    from: a@b.c\n    to: [d@e.f]\n    password: hunter2\n');
  const [msg] = problems(() => loadConfig(p, {}));
  assert.match(msg!, /:6: notify\.email: unknown key password: secrets are not read inline, use password_file \(or the LABWATCH_SMTP_PASSWORD environment variable\)/);
  assert.ok(!msg!.includes('hunter2'));
});

test('broken YAML names the line', () => {
  const p = file('broken.yaml', 'redis:\n  url: "redis://x\nhttp: {}\n');
  const [msg] = problems(() => loadConfig(p, {}));
  assert.match(msg!, /^line \d+, column \d+: invalid YAML/);
});

test('a missing config file says so and what to do', () => {
  const [msg] = problems(() => loadConfig(join(dir, 'nope.yaml'), {}));
  assert.match(msg!, /cannot read the config file: no such file; pass an existing file with --config FILE/);
});

test('secrets come from *_file, trimmed, and the environment wins over the file', () => {
  const pw = file('pw', 'from-file\n');
  const tok = file('tok', '  tok-from-file  \n');
  const p = file('secrets.yaml', `http:\n  token_file: ${tok}\nnotify:\n  email:\n    host: m\n    from: a@b.c\n    to: [d@e.f]\n    password_file: ${pw}\n`);
  const a = loadConfig(p, {});
  assert.equal(blockSecrets(a, 'notify.email').password_file, 'from-file');
  assert.equal(a.secrets.httpToken, 'tok-from-file');
  const b = loadConfig(p, { LABWATCH_SMTP_PASSWORD: 'from-env', ANTHROPIC_API_KEY: 'sk-test' });
  assert.equal(blockSecrets(b, 'notify.email').password_file, 'from-env');
  assert.equal(b.secrets.anthropicApiKey, 'sk-test');
  assert.ok(!JSON.stringify(b.notify).includes('from-env'), 'secrets are kept apart from the loggable config');
});

test('an unreadable or empty secret file is a problem that names the key and the way out', () => {
  const empty = file('empty', '\n');
  const p = file('missing-secret.yaml', `http:\n  token_file: ${join(dir, 'absent')}\nnotify:\n  ntfy:\n    topic: t\n    token_file: ${empty}\n`);
  const found = problems(() => loadConfig(p, {}));
  assert.equal(found.length, 2);
  assert.match(found[0]!, /http\.token_file: cannot read .*absent \(ENOENT\); create it, make it readable by labwatch, or set LABWATCH_HTTP_TOKEN/);
  assert.match(found[1]!, /notify\.ntfy\.token_file: .*empty is empty/);
});

test('LABWATCH_REDIS_URL overrides the file, as containers expect', () => {
  const cfg = loadConfig(undefined, { LABWATCH_REDIS_URL: 'redis://redis:6379' });
  assert.equal(cfg.redis.url, 'redis://redis:6379');
});

test('an empty block means defaults', () => {
  const p = file('empty-block.yaml', 'notify:\n  # nothing yet\nredis:\n');
  assert.equal(loadConfig(p, {}).redis.prefix, 'labwatch');
});

test('external MCP servers: one transport each, an allow-list, and header/env secrets read from files', () => {
  const auth = file('grafana-auth', 'Bearer gf-secret-31\n');
  const servers = (extra: string) =>
    `mcp:\n  servers:\n    - name: grafana\n      url: http://127.0.0.1:8000/mcp\n      header_files: { Authorization: ${auth} }\n      tools: [query_prometheus]\n${extra}`;
  const cfg = loadConfig(file('mcp-ok.yaml', servers('')), {});
  assert.deepEqual(cfg.secrets.mcp, { grafana: { env: {}, headers: { Authorization: 'Bearer gf-secret-31' } } });
  assert.equal(cfg.mcp.servers[0]!.timeout, '30s');

  const p = problems(() =>
    loadConfig(
      file(
        'mcp-bad.yaml',
        servers(
          `    - name: netbox\n      command: /usr/local/bin/netbox-mcp\n      env_files: { NETBOX_TOKEN: ${join(dir, 'missing-token')} }\n      tools: [get_device]\n    - name: both\n      command: x\n      url: http://127.0.0.1:1/mcp\n      tools: [a]\n    - name: open\n      url: http://127.0.0.1:2/mcp\n      tools: []\n`,
        ),
      ),
      {},
    ),
  );
  assert.ok(p.some((x) => /mcp\.servers\[2\]: expected either command \(stdio\) or url/.test(x)), p.join('\n'));
  assert.ok(p.some((x) => /mcp\.servers\[3\]\.tools: name the tools to allow/.test(x)), p.join('\n'));
  // Secrets are only read once the shape is right; a second pass names the unreadable file.
  const p2 = problems(() => loadConfig(file('mcp-bad2.yaml', servers(`    - name: netbox\n      command: /usr/local/bin/netbox-mcp\n      env_files: { NETBOX_TOKEN: ${join(dir, 'missing-token')} }\n      tools: [get_device]\n`)), {}));
  assert.match(p2[0]!, /mcp-bad2\.yaml:\d+: mcp\.servers\[1\]\.env_files\.NETBOX_TOKEN: cannot read .*missing-token \(ENOENT\)/);
});

test('a Proxmox block without its token secret is refused at load, naming the file key and the variable; the variable alone is enough', () => {
  const yaml = 'proxmox:\n  url: https://pve1.lab:8006\n  token_id: "labwatch@pve!monitor"\n  tls_fingerprint: "sha256 ' + 'AB:'.repeat(31) + 'AB"\n';
  const p = file('pve-no-secret.yaml', yaml);
  assert.deepEqual(problems(() => loadConfig(p, {})), [
    `${p}:2: proxmox.token_secret_file: the API token's secret is needed: name the file holding it, or set LABWATCH_PROXMOX_TOKEN_SECRET`,
  ]);
  const cfg = loadConfig(p, { LABWATCH_PROXMOX_TOKEN_SECRET: '3f9a1c2e-7b4d-4e8f-9a6b-0c1d2e3f4a5b' });
  assert.deepEqual(blockSecrets(cfg, 'proxmox'), { token_secret_file: '3f9a1c2e-7b4d-4e8f-9a6b-0c1d2e3f4a5b' });
  assert.match(problems(() => loadConfig(file('pve-two-trusts.yaml', yaml + '  tls_verify: false\n'), { LABWATCH_PROXMOX_TOKEN_SECRET: 'x' })).join(), /give one of ca_file, tls_fingerprint or tls_verify: false, not several/);
});
