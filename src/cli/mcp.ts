/** `labwatch mcp`: the tools over MCP on stdin/stdout, for Claude Desktop or Claude Code. */
import { serveStdio } from '../mcp/server.ts';
import { pkg, toolbox } from './toolbox.ts';

export async function mcpStdio(opts: { config?: string }): Promise<void> {
  const { tools, audit, redis } = await toolbox(opts.config);
  const server = await serveStdio({ tools, audit, version: pkg.version });
  // The client closing our stdin is the end of the session (the SDK's transport does not watch for
  // it): let go of Redis so the process exits at once instead of waiting for the client's SIGTERM.
  process.stdin.once('end', () => {
    void server.close().finally(() => redis.disconnect());
  });
}
