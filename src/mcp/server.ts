/**
 * labwatch's own MCP server: every connector's tools, served to Claude (triage), Claude Desktop
 * or Claude Code (stdio) and, later, HTTP. All MCP imports stay in src/mcp/, so moving to the
 * SDK's v2 packages touches this folder only. Tools run through runTool: validated, capped, audited.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { AuditLog } from '../tools/audit.ts';
import { runTool, type RunOptions } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';

export interface ServerOptions {
  tools: ToolSpec[];
  audit: AuditLog;
  version: string;
  caller?: RunOptions['caller'];
}

export function buildMcpServer(o: ServerOptions): McpServer {
  const server = new McpServer(
    { name: 'labwatch', version: o.version },
    {
      instructions:
        "labwatch watches this homelab's drives (SMART), ZFS pools and host, and keeps its incidents. Its tools only read. " +
        'Start with incidents_list, smart_list_drives or zfs_list_pools, then ask about one drive, pool or incident.',
    },
  );
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
