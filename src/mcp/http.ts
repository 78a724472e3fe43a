/**
 * MCP over streamable HTTP, stateless: each POST gets a fresh server and transport, so nothing
 * of one client's session lives in the daemon. Auth and Host/Origin checks happen before this
 * (http/server.ts); GET and DELETE are answered 405 by the route (http/routes/mcp.ts), as the
 * spec allows without sessions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { buildMcpServer, type ServerOptions } from './server.ts';

export type McpHttpHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

export interface McpHttpOptions extends Omit<ServerOptions, 'tools'> {
  /** the tools to serve; a function when they change (a system stops or starts answering) */
  tools: ServerOptions['tools'] | (() => Promise<ServerOptions['tools']>);
  /**
   * Serve tools that are not read-only (`mcp.http_write_tools`). When false they are left out of
   * the server entirely: not listed, and a call finds no such tool, so it never runs.
   */
  writeTools: boolean;
}

export function mcpHttpHandler({ writeTools, tools, ...o }: McpHttpOptions): McpHttpHandler {
  return async (req, res, body) => {
    const all = typeof tools === 'function' ? await tools() : tools;
    const server = buildMcpServer({ ...o, tools: writeTools ? all : all.filter((t) => t.annotations.readOnly) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}
