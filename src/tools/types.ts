/**
 * A diagnostic tool, as connectors declare it: MCP-free (src/mcp/ adapts it), so a connector
 * never imports the protocol. Descriptions are written for the model: when to call, its limits,
 * what an empty result means.
 */
import type * as z from 'zod';

export interface ToolAnnotations {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** true when the tool reaches beyond this lab (none of labwatch's own do) */
  openWorld: boolean;
}

/** ok: here is the data; no_data: nothing to show (said in `text`); error: what failed and what to try. */
export interface ToolResult {
  status: 'ok' | 'no_data' | 'error';
  data?: Record<string, unknown>;
  text: string;
}

export interface ToolSpec<S extends z.ZodRawShape = z.ZodRawShape> {
  /** [a-z0-9_] only: the Claude API allows no dots */
  name: string;
  title: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  /**
   * What the tool's system is, in the prompts' words ("ZFS pools (state, vdevs …)"): set when the
   * tool is offered, so the prompts and the MCP server's instructions name only what answers.
   */
  system?: string;
  /** a good first call for an investigation (a list of the system's things) */
  starts?: boolean;
  /**
   * For tools described by JSON Schema (an external MCP server's): the schema the model sees,
   * exactly as the server wrote it, and the check run before each call instead of `input`.
   */
  schema?: { json: Record<string, unknown>; check: z.ZodType };
  /**
   * The arguments to call this tool with by default for an anomaly (the fallback report runs it):
   * e.g. a drive's health for a disk anomaly. Undefined when this tool is not the default for it.
   */
  defaultFor?(anomaly: { source: string; subject: string; labels: Record<string, string> }): Record<string, unknown> | undefined;
  run(input: z.infer<z.ZodObject<S>>, signal: AbortSignal): Promise<ToolResult>;
}

/**
 * A tool whose `run` is typed from its `input` shape (S is inferred: no type argument needed),
 * returned as the plain ToolSpec lists and runTool take.
 */
export function defineTool<S extends z.ZodRawShape>(spec: ToolSpec<S>): ToolSpec {
  // Sound because runTool parses every call's input against z.strictObject(spec.input) and hands
  // run only the parsed data, which is z.infer of that shape; the cast only forgets S, which
  // ToolSpec's contravariant `run` parameter would otherwise refuse.
  return spec as unknown as ToolSpec;
}

/** Every tool labwatch's own readers offer is read-only, idempotent and stays inside the lab. */
export const READ_ONLY: ToolAnnotations = { readOnly: true, destructive: false, idempotent: true, openWorld: false };

export function ok(data: Record<string, unknown>, text: string): ToolResult {
  return { status: 'ok', data, text };
}
export function noData(text: string): ToolResult {
  return { status: 'no_data', text };
}
export function failed(text: string): ToolResult {
  return { status: 'error', text };
}
