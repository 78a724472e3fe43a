/**
 * A scripted stand-in for the Anthropic Messages API on loopback: the real SDK talks to it. Each
 * POST /v1/messages takes the next scripted step and every request is recorded, so tests can
 * assert what labwatch sent (tools, cache_control, untrusted blocks, no secrets).
 * `{ local: true }` behaves like the local back-ends (Ollama, llama.cpp, vLLM, LiteLLM): no cache
 * usage fields in its answers; like them it ignores tool_choice and any key (as this stand-in always does).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenLoopback } from './loopback.ts';

export type Step =
  | { toolUse: { name: string; input: unknown }[]; text?: string }
  | { text: string }
  /** the report written as JSON text instead of a submit_report call, as local models do */
  | { json: unknown; fenced?: boolean }
  | { status: number; type: string; retryAfter?: number }
  | { hang: true };

export interface Recorded {
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    system: { type: string; text: string; cache_control?: unknown }[];
    tools: { name: string; input_schema: unknown; cache_control?: unknown }[];
    tool_choice: { type: string; name?: string };
    messages: { role: string; content: unknown }[];
  };
  raw: string;
}

export class ScriptedAnthropic {
  readonly requests: Recorded[] = [];
  #script: Step[] = [];
  #server: Server;
  #n = 0;
  url = '';

  constructor(private readonly opts: { local?: boolean } = {}) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: req.headers, body: JSON.parse(raw) as Recorded['body'], raw });
        const step = this.#script.shift() ?? { text: 'script exhausted' };
        if ('hang' in step) return; // never answers
        if ('status' in step) {
          res.writeHead(step.status, { 'Content-Type': 'application/json', ...(step.retryAfter !== undefined ? { 'Retry-After': String(step.retryAfter) } : {}) }).end(JSON.stringify({ type: 'error', error: { type: step.type, message: step.type } }));
          return;
        }
        const content: unknown[] = [];
        if ('text' in step && step.text) content.push({ type: 'text', text: step.text });
        if ('json' in step) {
          const json = JSON.stringify(step.json, null, 1);
          content.push({ type: 'text', text: step.fenced ? `Here is the report:\n\n\`\`\`json\n${json}\n\`\`\`` : json });
        }
        if ('toolUse' in step)
          for (const t of step.toolUse) content.push({ type: 'tool_use', id: `toolu_${++this.#n}`, name: t.name, input: t.input });
        res.writeHead(200, { 'Content-Type': 'application/json', 'request-id': `req_${this.#n}` }).end(
          JSON.stringify({
            id: `msg_${++this.#n}`,
            type: 'message',
            role: 'assistant',
            model: 'scripted',
            content,
            stop_reason: 'toolUse' in step ? 'tool_use' : 'end_turn',
            stop_sequence: null,
            usage: this.opts.local
              ? { input_tokens: 1000, output_tokens: 100 }
              : { input_tokens: 1000, output_tokens: 100, cache_creation_input_tokens: this.requests.length === 1 ? 900 : 0, cache_read_input_tokens: this.requests.length > 1 ? 900 : 0 },
          }),
        );
      });
    });
  }

  script(...steps: Step[]): void {
    this.#script = steps;
    this.requests.length = 0;
  }

  async start(): Promise<this> {
    this.url = await listenLoopback(this.#server);
    return this;
  }

  async stop(): Promise<void> {
    await closeServer(this.#server);
  }
}
