/**
 * An external MCP server for hub tests, written with the SDK as a third party would: a "netlab"
 * server with two read-only tools and one that writes (which labwatch must never offer unless
 * allowed). Run as a file it serves stdio; `startHttpNetlab` serves streamable HTTP on loopback
 * and requires a bearer token. Each call is appended to $NETLAB_CALLS when set.
 */
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';
import { closeServer, listenLoopback } from './loopback.ts';

function netlab(): McpServer {
  const s = new McpServer({ name: 'netlab', version: '1.0.0' });
  const note = (tool: string, args: unknown) => process.env.NETLAB_CALLS && appendFileSync(process.env.NETLAB_CALLS, `${tool} ${JSON.stringify(args)}\n`);
  s.registerTool(
    'link_errors',
    {
      description: 'CRC and drop counters of one switch port',
      inputSchema: { port: z.string().regex(/^[a-z]+\d+(\/\d+)*$/), window_min: z.number().int().min(1).max(60).optional() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      note('link_errors', args);
      const data = { port: args.port, crc_errors: 1287, drops: 4, mtu: 1500 };
      return { content: [{ type: 'text', text: `${args.port}: 1287 CRC errors, MTU 1500` }], structuredContent: data };
    },
  );
  s.registerTool(
    'port_list',
    { description: 'Every switch port', inputSchema: {}, annotations: { readOnlyHint: true } },
    async () => {
      note('port_list', {});
      return { content: [{ type: 'text', text: 'ge0/1 up\nge0/2 up' }] };
    },
  );
  s.registerTool(
    'port_disable',
    { description: 'Shut a switch port down', inputSchema: { port: z.string() }, annotations: { readOnlyHint: false, destructiveHint: true } },
    async (args) => {
      note('port_disable', args);
      return { content: [{ type: 'text', text: `disabled ${args.port}` }] };
    },
  );
  return s;
}

export interface HttpNetlab {
  url: string;
  requests: number;
  stop(): Promise<void>;
}

/** netlab over stateless streamable HTTP; requests without `Authorization: Bearer <token>` get 401. */
export async function startHttpNetlab(token: string, port = 0): Promise<HttpNetlab> {
  const state = { requests: 0 };
  const server: Server = createServer(async (req, res) => {
    state.requests++;
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
    const mcp = netlab();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => mcp.close()));
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  const url = await listenLoopback(server, port);
  return {
    url: `${url}/mcp`,
    get requests() {
      return state.requests;
    },
    stop: () => closeServer(server),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await netlab().connect(new StdioServerTransport());
