/**
 * The one way a tool runs, whoever calls it (MCP, the CLI, triage): input validated against its
 * schema, a timeout, the output capped (an oversized result becomes an error asking for a
 * narrower call), and every call audited. A call whose audit entry cannot be kept still returns
 * its result.
 */
import * as z from 'zod';
import type { AuditLog } from './audit.ts';
import { failed, type ToolResult, type ToolSpec } from './types.ts';
import { issueMessage, issuePath } from '../util/zod.ts';

export interface RunOptions {
  caller: 'mcp' | 'cli' | 'triage' | 'dashboard';
  incident?: string;
  maxBytes?: number;
  timeoutMs?: number;
}

const DEFAULT_MAX_BYTES = 24_000;

export async function runTool(tool: ToolSpec, raw: unknown, audit: AuditLog, opts: RunOptions): Promise<ToolResult> {
  const started = Date.now();
  const parsed = (tool.schema?.check ?? z.strictObject(tool.input)).safeParse(raw ?? {});
  let result: ToolResult;
  if (!parsed.success) {
    result = failed(`invalid input for ${tool.name}: ${parsed.error.issues.map((i) => `${issuePath(i.path) || 'input'}: ${issueMessage(i)}`).join('; ')}`);
  } else {
    try {
      result = await tool.run(parsed.data as Record<string, unknown>, AbortSignal.timeout(opts.timeoutMs ?? 60_000));
    } catch (e) {
      result = failed(`${tool.name} failed: ${(e as Error).message}`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(result.data ?? {})) + Buffer.byteLength(result.text);
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes > max)
    result = failed(`${tool.name}: the result is ${bytes} bytes, over the ${max}-byte limit; call it again asking for less (one drive, one pool, a smaller limit)`);
  // The audit is a record, not a gate: losing an entry never costs the result (Audit counts and logs it).
  try {
    await audit.record({
      at: new Date(started).toISOString(),
      caller: opts.caller,
      ...(opts.incident ? { incident: opts.incident } : {}),
      tool: tool.name,
      args: parsed.success ? parsed.data : raw,
      durationMs: Date.now() - started,
      bytes,
      outcome: result.status,
      result: result.text,
    });
  } catch {
    // Audit.record never throws; another AuditLog might, and its failure is its own to report.
  }
  return result;
}
