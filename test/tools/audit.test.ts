/**
 * The audit trail is a record, not a gate: a copy that cannot be written (the file, the Redis
 * stream) is counted and logged once, the other copy keeps the entry, and the tool call returns
 * its result. Against real Redis and real filesystem failures that stop root too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Audit, auditFileProblem, type AuditEntry, type AuditLog, type AuditSink } from '../../src/tools/audit.ts';
import { runTool } from '../../src/tools/run.ts';
import { ok, READ_ONLY, type ToolSpec } from '../../src/tools/types.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';

const dir = mkdtempSync(join(tmpdir(), 'labwatch-audit-'));
const stream = `lwtest-audit-${randomBytes(4).toString('hex')}:audit`;
let redis: Redis;

before(async () => {
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
after(async () => {
  await redis.del(stream);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const echo: ToolSpec = {
  name: 'echo_tool',
  title: 'Echo',
  description: 'answers what it was given',
  input: {},
  annotations: READ_ONLY,
  run: async () => ok({ answer: 42 }, 'the answer is 42'),
};

/** A logger that keeps what it is told, by level. */
function recorder() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  return { lines, log: { error: at('error'), warn: at('warn'), info: at('info') } as never };
}

describe('an audit file that cannot be written', () => {
  // A path through a regular file: ENOTDIR for every user, root included (chmod 0555 stops nobody as root).
  const blocker = join(dir, 'not-a-folder');
  const file = join(blocker, 'audit.jsonl');
  const failures: AuditSink[] = [];
  const { lines, log } = recorder();
  let audit: Audit;
  before(() => {
    writeFileSync(blocker, 'a regular file\n');
    audit = new Audit({ file, redis, stream, onWriteFailure: (sink) => failures.push(sink), log });
  });

  test('the tool call returns its result, and the Redis stream keeps every entry', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runTool(echo, {}, audit, { caller: 'cli', incident: `inc-${i}` });
      assert.equal(r.status, 'ok');
      assert.equal(r.text, 'the answer is 42');
    }
    const entries = await audit.recent(10);
    assert.deepEqual(entries.map((e) => `${e.tool} ${e.incident} ${e.outcome}`), ['echo_tool inc-0 ok', 'echo_tool inc-1 ok', 'echo_tool inc-2 ok']);
  });

  test('each lost write is counted, the failure is logged once, and problem() names the file and the error', () => {
    assert.deepEqual(failures, ['file', 'file', 'file']);
    const logged = lines.filter((l) => l.msg.includes('cannot write the audit file'));
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.level, 'error');
    assert.match(String(logged[0]!.fields.err), /ENOTDIR/);
    assert.match(logged[0]!.msg, /kept in the Redis stream only/);
    assert.match(audit.problem() ?? '', new RegExp(`^cannot write the audit file ${file}: ENOTDIR.*; tool calls and reports go on$`));
  });

  test('once the path is writable again the next entry is written, the recovery is logged once and problem() clears', async () => {
    rmSync(blocker);
    await runTool(echo, {}, audit, { caller: 'cli' });
    await runTool(echo, {}, audit, { caller: 'cli' });
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);
    assert.equal(lines.filter((l) => l.msg === 'the audit file is writable again').length, 1);
    assert.equal(audit.problem(), null);
    assert.equal(failures.length, 3, 'no new failure');
  });
});

test('a Redis stream that refuses the entry never fails the call; the file keeps it, the failure is counted and logged once', async () => {
  const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  down.on('error', () => {});
  const file = join(dir, 'redis-down', 'audit.jsonl');
  const failures: AuditSink[] = [];
  const { lines, log } = recorder();
  const audit = new Audit({ file, redis: down, stream, onWriteFailure: (sink) => failures.push(sink), log });
  for (let i = 0; i < 2; i++) assert.equal((await runTool(echo, {}, audit, { caller: 'mcp' })).status, 'ok');
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);
  assert.deepEqual(failures, ['redis', 'redis']);
  assert.equal(lines.filter((l) => l.msg.startsWith('cannot add to the audit stream')).length, 1);
  assert.match(audit.problem() ?? '', /cannot add to the audit stream .* in Redis/);
  down.disconnect();
});

test('runTool returns the result even when an audit log throws, synchronously or not', async () => {
  const throwsNow: AuditLog = {
    record(_e: AuditEntry): Promise<void> {
      throw new Error('sync boom');
    },
  };
  const rejects: AuditLog = { record: async () => Promise.reject(new Error('async boom')) };
  for (const audit of [throwsNow, rejects]) assert.equal((await runTool(echo, {}, audit, { caller: 'triage' })).text, 'the answer is 42');
});

describe('auditFileProblem (labwatch check)', () => {
  test('a file that may be created in folders still to be made is fine, and the check creates nothing', async () => {
    const file = join(dir, 'fresh', 'deeper', 'audit.jsonl');
    assert.equal(await auditFileProblem(file), null);
    assert.equal(existsSync(join(dir, 'fresh')), false);
  });

  test('a path through a regular file names the file that is in the way', async () => {
    const blocker = join(dir, 'check-blocker');
    writeFileSync(blocker, 'x');
    assert.equal(await auditFileProblem(join(blocker, 'sub', 'audit.jsonl')), `cannot create ${join(blocker, 'sub', 'audit.jsonl')}: ${blocker} is not a directory`);
  });

  test('a folder where the file should be is refused', async () => {
    const folder = join(dir, 'a-folder.jsonl');
    mkdirSync(folder);
    assert.equal(await auditFileProblem(folder), `${folder} is not a regular file`);
  });

  test('a read-only filesystem is refused, for root too', async (t) => {
    const ro = mkdtempSync(join(tmpdir(), 'labwatch-audit-ro-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=16k', 'tmpfs', ro], { stdio: 'ignore' });
    } catch {
      rmSync(ro, { recursive: true, force: true });
      t.skip('mount -t tmpfs is not allowed here (needs root or CAP_SYS_ADMIN)');
      return;
    }
    try {
      assert.match((await auditFileProblem(join(ro, 'audit.jsonl'))) ?? '', /EROFS/);
    } finally {
      execFileSync('umount', [ro]);
      rmSync(ro, { recursive: true, force: true });
    }
  });
});
