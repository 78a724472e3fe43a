/**
 * MCP over streamable HTTP, stateless: each POST gets a fresh server and transport, so nothing
 * of one client's session lives in the daemon. Auth and Host/Origin checks happen before this
 * (http/server.ts); GET and DELETE are answered 405 there, as the spec allows without sessions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { buildMcpServer, type ServerOptions } from './server.ts';

export type McpHttpHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void>;

export function mcpHttpHandler(o: ServerOptions): McpHttpHandler {
  return async (req, res, body) => {
    const server = buildMcpServer(o);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}
