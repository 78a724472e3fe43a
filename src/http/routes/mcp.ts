/**
 * MCP over streamable HTTP at /mcp ('local' access: the token plus the Host/Origin checks).
 * Stateless, so only POST carries anything; GET and DELETE are answered 405, as the spec allows.
 */
import type { McpHttpHandler } from '../../mcp/http.ts';
import type { RouteModule } from '../route.ts';

export interface McpDeps {
  /** Served at /mcp when set. */
  mcp?: McpHttpHandler;
}

export const mcp: RouteModule<McpDeps> = {
  name: 'mcp',
  register(app, { mcp: handler }) {
    if (!handler) return;
    app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      config: { access: 'local' },
      handler: async (req, reply) => {
        if (req.method !== 'POST')
          return reply.code(405).header('Allow', 'POST').send({ jsonrpc: '2.0', error: { code: -32000, message: 'labwatch serves MCP statelessly: POST only' }, id: null });
        reply.hijack();
        await handler(req.raw, reply.raw, req.body);
      },
    });
  },
};
