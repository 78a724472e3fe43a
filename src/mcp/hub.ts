/**
 * The hub: labwatch's own tools (in-process, the same ToolSpecs its MCP server serves) plus the
 * allowed tools of external MCP servers from config (stdio or streamable HTTP), as one list for
 * triage and `labwatch ask`. An external tool becomes a ToolSpec named `<server>__<tool>`, so it
 * runs through runTool like any other: validated, capped, audited.
 *
 * A server that is down is logged and skipped; the others go on. A server that drops is connected
 * again on a later use, with a growing pause between attempts so a dead one costs nothing.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import * as z from 'zod';
import type { Logger } from '../telemetry/log.ts';
import { failed, ok, type ToolSpec } from '../tools/types.ts';

export interface ExternalServer {
  name: string;
  command?: string;
  args: string[];
  env: Record<string, string>;
  url?: string;
  headers: Record<string, string>;
  /** the allow-list */
  tools: string[];
  timeoutMs: number;
}

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

/** The Claude API allows [a-zA-Z0-9_-]{1,64} in tool names. */
function namespaced(server: string, tool: string): string {
  return `${server}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

type Listed = Awaited<ReturnType<Client['listTools']>>['tools'][number];

class Connection {
  #client: Client | undefined;
  #tools: ToolSpec[] = [];
  #retryAt = 0;
  #pause: number;
  #connecting: Promise<void> | undefined;

  constructor(
    readonly server: ExternalServer,
    private readonly version: string,
    private readonly log: Logger,
    private readonly firstRetryMs: number,
  ) {
    this.#pause = firstRetryMs;
  }

  get up(): boolean {
    return this.#client !== undefined;
  }

  /** The allowed tools, connecting first when down and the pause since the last failure is over. */
  async tools(now = Date.now()): Promise<ToolSpec[]> {
    if (!this.#client && now >= this.#retryAt) await (this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined)));
    return this.#client ? this.#tools : [];
  }

  async #connect(): Promise<void> {
    const s = this.server;
    const client = new Client({ name: 'labwatch', version: this.version });
    const transport: Transport = s.command
      ? new StdioClientTransport({ command: s.command, args: s.args, env: { ...getDefaultEnvironment(), ...s.env }, stderr: 'pipe' })
      : new StreamableHTTPClientTransport(new URL(s.url!), { requestInit: { headers: s.headers } });
    // A child's stderr is its log: read it (an unread pipe would stall the child) and keep it at debug.
    if (transport instanceof StdioClientTransport)
      transport.stderr?.on('data', (b: Buffer) => this.log.debug({ mcp: s.name, stderr: b.toString('utf8').trimEnd() }, 'MCP server stderr'));
    try {
      await client.connect(transport, { timeout: s.timeoutMs });
      const { tools } = await client.listTools(undefined, { timeout: s.timeoutMs });
      const offered = new Map(tools.map((t) => [t.name, t]));
      const missing = s.tools.filter((n) => !offered.has(n));
      if (missing.length) this.log.warn({ mcp: s.name, missing, offered: [...offered.keys()] }, `MCP server ${s.name} does not offer ${missing.join(', ')}; check mcp.servers[].tools`);
      this.#tools = s.tools.flatMap((n) => (offered.has(n) ? [this.#adapt(offered.get(n)!)] : []));
      client.onclose = () => {
        if (this.#client !== client) return;
        this.log.warn({ mcp: s.name }, `MCP server ${s.name} closed the connection; reconnecting on next use`);
        this.#down();
      };
      this.#client = client;
      this.#pause = this.firstRetryMs;
      this.log.info({ mcp: s.name, tools: this.#tools.map((t) => t.name) }, `MCP server ${s.name} connected`);
    } catch (e) {
      await client.close().catch(() => {});
      this.#retryAt = Date.now() + this.#pause;
      this.log.warn(
        { mcp: s.name, err: (e as Error).message, retryInMs: this.#pause },
        `MCP server ${s.name} (${s.command ?? s.url}) is unavailable; triage goes on without its tools`,
      );
      this.#pause = Math.min(this.#pause * 2, MAX_RETRY_MS);
    }
  }

  #down(): void {
    this.#client = undefined;
    this.#tools = [];
    this.#retryAt = 0; // the next use tries again at once; a failure then starts the pauses
  }

  /** An external tool as a ToolSpec: its JSON Schema shown to the model as written, and checked here too. */
  #adapt(t: Listed): ToolSpec {
    const s = this.server;
    const ro = t.annotations?.readOnlyHint === true;
    if (!ro) this.log.warn({ mcp: s.name, tool: t.name }, `${s.name}'s tool ${t.name} is not declared read-only: triage will not use it; labwatch ask and tools call ask you first`);
    const json = t.inputSchema as Record<string, unknown>;
    let check: z.ZodType;
    try {
      check = z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
    } catch {
      check = z.looseObject({}); // a schema zod cannot read: the server validates its own input
    }
    return {
      name: namespaced(s.name, t.name),
      title: t.title ?? t.annotations?.title ?? t.name,
      description: `[from the ${s.name} MCP server] ${t.description ?? ''}`.trim(),
      system: `what the ${s.name} MCP server offers`,
      input: {},
      schema: { json, check },
      annotations: {
        readOnly: ro,
        destructive: t.annotations?.destructiveHint ?? !ro,
        idempotent: t.annotations?.idempotentHint ?? false,
        openWorld: t.annotations?.openWorldHint ?? true,
      },
      run: async (args, signal) => this.#call(t.name, args as Record<string, unknown>, signal),
    };
  }

  async #call(tool: string, args: Record<string, unknown>, signal: AbortSignal) {
    const client = this.#client;
    if (!client) return failed(`the ${this.server.name} MCP server is not connected; try again later`);
    try {
      const r = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: this.server.timeoutMs, signal });
      const text = (r.content as { type: string; text?: string }[]).flatMap((c) => (c.type === 'text' && c.text ? [c.text] : [`[${c.type} content]`])).join('\n');
      if (r.isError) return failed(`${this.server.name}/${tool}: ${text || 'the tool reported an error'}`);
      return ok((r.structuredContent as Record<string, unknown> | undefined) ?? {}, text);
    } catch (e) {
      const msg = (e as Error).message;
      // A transport failure (not a tool's own error) means the connection is gone: reconnect next time.
      if (!/MCP error -32602|MCP error -32601/.test(msg)) {
        this.#down();
        await client.close().catch(() => {});
      }
      return failed(`${this.server.name}/${tool} failed: ${msg}`);
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.close().catch(() => {});
  }
}

export class McpHub {
  readonly #connections: Connection[];

  constructor(
    /** labwatch's own tools; a function when they change (a system stops or starts answering) */
    private readonly own: ToolSpec[] | (() => Promise<ToolSpec[]>),
    servers: ExternalServer[],
    version: string,
    log: Logger,
    opts: { firstRetryMs?: number } = {},
  ) {
    this.#connections = servers.map((s) => new Connection(s, version, log, opts.firstRetryMs ?? FIRST_RETRY_MS));
  }

  /** labwatch's tools, then each reachable server's allowed tools; servers are tried in parallel. */
  async tools(): Promise<ToolSpec[]> {
    const [own, ...external] = await Promise.all([typeof this.own === 'function' ? this.own() : this.own, ...this.#connections.map((c) => c.tools())]);
    return [...own!, ...external.flat()];
  }

  /** Which external servers are connected now (for /readyz-style reporting and tests). */
  status(): { name: string; up: boolean }[] {
    return this.#connections.map((c) => ({ name: c.server.name, up: c.up }));
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections.map((c) => c.close()));
  }
}
