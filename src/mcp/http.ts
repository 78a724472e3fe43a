/**
 * MCP over streamable HTTP, stateless: each POST gets a fresh server and transport, so nothing
 * of one client's session lives in the daemon. Auth and Host/Origin checks happen before this
 * (http/server.ts); GET and DELETE are answered 405 there, as the spec allows without sessions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { buildMcpServer, type ServerOptions } from './server.ts';

export type McpHttpHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

export interface McpHttpOptions extends ServerOptions {
  /**
   * Serve tools that are not read-only (`mcp.http_write_tools`). When false they are left out of
   * the server entirely: not listed, and a call finds no such tool, so it never runs.
   */
  writeTools: boolean;
}

export function mcpHttpHandler({ writeTools, ...o }: McpHttpOptions): McpHttpHandler {
  const served: ServerOptions = { ...o, tools: writeTools ? o.tools : o.tools.filter((t) => t.annotations.readOnly) };
  return async (req, res, body) => {
    const server = buildMcpServer(served);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}
