/**
 * A STAND-IN for containers/kubernetes-mcp-server: same tool names, input schemas and annotations as
 * verified at 96a079ee8aba0b81152ee7463461da78b2f10a89 (pkg/mcp/testdata/toolsets-full-tools.json, the
 * upstream test's snapshot of tools/list; the core toolset's entries are in
 * test/fixtures-derived/kubernetes/tools-list.json); its answers are fixed test data, not a cluster.
 *
 * Written with the MCP SDK's low-level Server so tools/list returns those JSON definitions as they are
 * (McpServer would rebuild the schemas from zod). Like the real server it serves stdio when started
 * without --port, and honours the flags labwatch's README documents:
 *   --read-only            only tools annotated readOnlyHint (pkg/mcp/mcp.go isToolApplicable)
 *   --disable-destructive  drops tools annotated destructiveHint
 *   --toolsets core        every tool here is in core; another list leaves none
 *   --kubeconfig <file>    accepted and not read (there is no cluster)
 * Each start (`argv …`) and each call (`call <tool> <json>`) is appended to $K8S_STANDIN_LOG when set.
 *
 * Answers (see test/fixtures-derived/kubernetes/SOURCES.md): pods_log for the crash-looping
 * kubeflow/katib-manager pod and events_list for its namespace; every other call fails, saying so.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';

const DATA = new URL('../fixtures-derived/kubernetes/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DATA), 'utf8');

/** The crash-looping pod the fixed answers are about. */
export const CRASHING_POD = { namespace: 'kubeflow', name: 'katib-manager-6d9c5b7f8-x4lqz', container: 'katib-manager' };

interface Flags {
  readOnly: boolean;
  disableDestructive: boolean;
  toolsets: string[];
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { readOnly: false, disableDestructive: false, toolsets: ['core', 'config', 'helm'] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--read-only') flags.readOnly = true;
    else if (flag === '--disable-destructive') flags.disableDestructive = true;
    else if (flag === '--toolsets') flags.toolsets = value().split(',').map((s) => s.trim());
    else if (flag === '--kubeconfig') value();
    else {
      // The real CLI (cobra) refuses unknown flags the same way, before serving anything.
      process.stderr.write(`Error: unknown flag: ${flag}\n`);
      process.exit(1);
    }
  }
  return flags;
}

/** The tools the real server would list with these flags. */
function listed(flags: Flags): Tool[] {
  const all = JSON.parse(read('tools-list.json')) as Tool[];
  if (!flags.toolsets.includes('core')) return [];
  return all.filter((t) => !(flags.readOnly && t.annotations?.readOnlyHint !== true) && !(flags.disableDestructive && t.annotations?.destructiveHint === true));
}

const text = (t: string, isError = false) => ({ content: [{ type: 'text' as const, text: t }], ...(isError ? { isError: true } : {}) });

function answer(tool: string, args: Record<string, unknown>) {
  const ns = typeof args.namespace === 'string' ? args.namespace : '';
  if (tool === 'pods_log') {
    // The error text is the server's (pods.go podsLog) around the API's NotFound message.
    if (ns !== CRASHING_POD.namespace || args.name !== CRASHING_POD.name)
      return text(`failed to get pod ${String(args.name)} log in namespace ${ns}: pods "${String(args.name)}" not found`, true);
    const lines = read('pods-log-katib-manager.txt').trimEnd().split('\n');
    const tail = typeof args.tail === 'number' && args.tail > 0 ? args.tail : 100;
    return text(lines.slice(-tail).join('\n') + '\n');
  }
  if (tool === 'events_list') return text(ns === '' || ns === CRASHING_POD.namespace ? read('events-list-kubeflow.txt') : '# No events found');
  return text(`kubernetes-mcp-server stand-in: no fixed answer for ${tool} (this is test data, not a cluster)`, true);
}

function standIn(flags: Flags): Server {
  const server = new Server({ name: 'kubernetes-mcp-server', version: 'stand-in' }, { capabilities: { tools: {} } });
  const tools = listed(flags);
  const log = (line: string) => process.env.K8S_STANDIN_LOG && appendFileSync(process.env.K8S_STANDIN_LOG, line + '\n');
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const args = req.params.arguments ?? {};
    log(`call ${req.params.name} ${JSON.stringify(args)}`);
    if (!tools.some((t) => t.name === req.params.name)) return text(`tool ${req.params.name} not found`, true);
    return answer(req.params.name, args);
  });
  log(`argv ${JSON.stringify(process.argv.slice(2))}`);
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) await standIn(parseFlags(process.argv.slice(2))).connect(new StdioServerTransport());
