/**
 * defineTool types `run` from the tool's input and hands back a plain ToolSpec: the tool still runs
 * through runTool, which checks the input first, so `run` only ever sees what the schema allows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import type { AuditEntry, AuditLog } from '../../src/tools/audit.ts';
import { runTool } from '../../src/tools/run.ts';
import { defineTool, ok, READ_ONLY, type ToolSpec } from '../../src/tools/types.ts';

function poolTool() {
  const calls: { pool: string; limit: number }[] = [];
  const tool: ToolSpec = defineTool({
    name: 'pool_events',
    title: "A pool's events",
    description: 'the newest events of one pool',
    input: { pool: z.string().regex(/^[A-Za-z][\w.:-]*$/, 'a ZFS pool name'), limit: z.number().int().min(1).max(100).default(20) },
    annotations: READ_ONLY,
    run: async ({ pool, limit }) => {
      calls.push({ pool, limit });
      return ok({ pool, limit }, `${limit} events of ${pool}`);
    },
  });
  return { tool, calls };
}

function memoryAudit(): AuditLog & { entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return { entries, record: async (e) => void entries.push(e) };
}

test('a defined tool runs through runTool with its defaults applied', async () => {
  const { tool, calls } = poolTool();
  const audit = memoryAudit();
  const r = await runTool(tool, { pool: 'tank' }, audit, { caller: 'cli' });
  assert.equal(r.status, 'ok');
  assert.equal(r.text, '20 events of tank');
  assert.deepEqual(calls, [{ pool: 'tank', limit: 20 }]);
  assert.equal(audit.entries[0]?.tool, 'pool_events');
});

test('bad input to a defined tool is an error naming the field, and run is never called', async () => {
  const { tool, calls } = poolTool();
  const audit = memoryAudit();
  const r = await runTool(tool, { pool: '../etc', limit: 500 }, audit, { caller: 'mcp' });
  assert.equal(r.status, 'error');
  assert.match(r.text, /^invalid input for pool_events: /);
  assert.match(r.text, /pool: expected a ZFS pool name/);
  assert.match(r.text, /limit: /);
  const missing = await runTool(tool, {}, audit, { caller: 'mcp' });
  assert.equal(missing.status, 'error');
  assert.match(missing.text, /pool: missing/);
  assert.deepEqual(calls, []);
  assert.deepEqual(
    audit.entries.map((e) => e.outcome),
    ['error', 'error'],
  );
});
