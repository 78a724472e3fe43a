/**
 * labwatch's own MCP server: every connector's tools, served to Claude (triage), Claude Desktop
 * or Claude Code (stdio) and over streamable HTTP (/mcp). All MCP imports stay in src/mcp/, so moving to the
 * SDK's v2 packages touches this folder only. Tools run through runTool: validated, capped, audited.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { AuditLog } from '../tools/audit.ts';
import { runTool, type RunOptions } from '../tools/run.ts';
import { labView, listed } from '../tools/describe.ts';
import type { ToolSpec } from '../tools/types.ts';

export interface ServerOptions {
  tools: ToolSpec[];
  audit: AuditLog;
  version: string;
  caller?: RunOptions['caller'];
}

/** What the server tells its client about this lab: only the systems whose tools it serves. */
export function instructions(tools: readonly ToolSpec[]): string {
  const lab = labView(tools);
  const writes = tools.some((t) => !t.annotations.readOnly);
  const has = lab.systems.length ? `labwatch watches this homelab and keeps its incidents. Its tools here read ${listed(lab.systems)}.` : 'labwatch serves no diagnostic tools here right now (no system is enabled and answering).';
  return `${has} ${writes ? 'Tools marked as changing something ask first.' : 'Its tools only read.'}${lab.start.length ? ` Start with ${listed(lab.start, 'or')}, then ask about one thing.` : ''}`;
}

export function buildMcpServer(o: ServerOptions): McpServer {
  const server = new McpServer({ name: 'labwatch', version: o.version }, { instructions: instructions(o.tools) });
  for (const tool of o.tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        // Every hint stated: MCP's defaults (destructive, open-world) would be wrong for these tools.
        annotations: {
          title: tool.title,
          readOnlyHint: tool.annotations.readOnly,
          destructiveHint: tool.annotations.destructive,
          idempotentHint: tool.annotations.idempotent,
          openWorldHint: tool.annotations.openWorld,
        },
      },
      async (args: Record<string, unknown>) => {
        const result = await runTool(tool, args, o.audit, { caller: o.caller ?? 'mcp' });
        return {
          content: [{ type: 'text' as const, text: result.text }],
          structuredContent: { status: result.status, ...(result.data ?? {}) },
          ...(result.status === 'error' ? { isError: true } : {}),
        };
      },
    );
  }
  return server;
}

/** Serves the tools on stdin/stdout (nothing else may write to stdout). */
export async function serveStdio(o: ServerOptions): Promise<McpServer> {
  const server = buildMcpServer(o);
  await server.connect(new StdioServerTransport());
  return server;
}
