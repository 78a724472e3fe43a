/**
 * "Which VMs have no recent backup?" asked through the real CLI: the model (a scripted API the
 * real SDK talks to) is offered the Proxmox Backup Server's tools because that server answers,
 * calls pbs_backups, and gets the stale groups as data. The PBS is the loopback stand-in.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { runLabwatch } from '../helpers/process.ts';
import { PBS_SECRET, startPbs, type PbsStandIn } from '../helpers/proxmox-backup.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-ask-pbs-'));
let api: ScriptedAnthropic;
let pbs: PbsStandIn;

before(async () => {
  api = await new ScriptedAnthropic().start();
  pbs = await startPbs();
  writeFileSync(join(dir, 'key'), 'lw-fake-anthropic-key-0123456789\n');
  writeFileSync(join(dir, 'pbs-token'), `${PBS_SECRET}\n`);
});
after(async () => {
  await api.stop();
  await pbs.close();
});

test('labwatch ask answers "which VMs have no recent backup?" through pbs_backups', async () => {
  const b = pbs.block();
  const config = join(dir, 'labwatch.yaml');
  writeFileSync(
    config,
    `redis:\n  url: "${TEST_REDIS_URL}"\n  prefix: lwtest-askpbs-${randomBytes(3).toString('hex')}\naudit:\n  file: ${join(dir, 'audit.jsonl')}\n` +
      `watch:\n  smart: { enabled: false }\n  zfs: { enabled: false }\n  host: { enabled: false }\n` +
      `proxmox_backup:\n  url: ${b.url}\n  token_id: "${b.token_id}"\n  token_secret_file: ${join(dir, 'pbs-token')}\n  tls_fingerprint: "${b.tls_fingerprint}"\n` +
      `anthropic:\n  api_key_file: ${join(dir, 'key')}\n  base_url: ${api.url}\n  max_turns: 3\n`,
  );
  api.script({ toolUse: [{ name: 'pbs_backups', input: {} }] }, { text: 'VM 101 (web01) has no backup newer than 36 hours.' });
  const { code, stdout, stderr } = await runLabwatch(['ask', 'which VMs have no recent backup?', '--config', config], dir);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^→ pbs_backups \{\}$/m);
  assert.match(stdout, /VM 101/);
  // the PBS tools were offered, and the tool's answer reached the model as data
  assert.ok(api.requests[0]!.body.tools.some((t) => t.name === 'pbs_backups'));
  const result = (api.requests[1]!.body.messages[2]!.content as { content: string }[])[0]!.content;
  assert.match(result, /^<untrusted-data source="tool:pbs_backups">/);
  assert.match(result, /"backup_id": ?"101"|vm\/101/);
  assert.match(result, /stale/);
  assert.ok(pbs.api.calls.every((c) => c.startsWith('GET ')));
  const audited = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tool: string });
  assert.deepEqual(audited.map((a) => a.tool), ['pbs_backups']);
});
