/**
 * `labwatch ask` and the dashboard's ask box: the owner's question, answered by the model with the
 * same tools, budgets and untrusted-data rules as triage. The question (and the earlier questions
 * and answers of its conversation) is the one trusted input; tool output goes back wrapped as
 * untrusted data; the answer is text.
 */
import Anthropic from '@anthropic-ai/sdk';
import { makeScrubber } from '../telemetry/log.ts';
import type { AuditEntry, AuditLog } from '../tools/audit.ts';
import type { RunOptions } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';
import { callForModel, describeApiError, serverName, toolDefinitions, withText, type AgentSettings } from './agent.ts';
import { usdOf, type Usage } from './cost.ts';
import { ASK_LAST_TURN, askPrompt } from './prompt.ts';

export interface AskResult {
  answer: string;
  turns: number;
  calls: number;
  tokens: Usage;
  /** US$ by the price table; 0 for a local model */
  usd: number;
}

/** What happens while a question is answered, as it happens (n counts the calls of this question from 1). */
export interface AskEvents {
  onToolStart?: (n: number, name: string, input: unknown) => void;
  /** outcome: the tool's ok | no_data | error, or `refused` when the budgets or rules stopped it before it ran */
  onToolDone?: (n: number, name: string, outcome: string, durationMs: number, bytes: number) => void;
  /** after each model turn: what the question has cost so far (kept even when it is stopped later) */
  onSpent?: (usd: number, tokens: Usage) => void;
}

export interface AskOptions {
  events?: AskEvents;
  /** earlier questions and answers of the conversation, oldest first, sent before the question */
  previous?: readonly { question: string; answer: string }[];
  /** who asks, for the audit (default 'cli') */
  caller?: Extract<RunOptions['caller'], 'cli' | 'dashboard'>;
  /** asks the person whether a tool that changes something may run; absent: such tools are refused */
  confirm?: (tool: ToolSpec, input: unknown) => Promise<boolean>;
  /** stops the question (the person went away): no further request or tool call is made */
  signal?: AbortSignal;
}

/** How many earlier turns a follow-up carries: enough for context, bounded in tokens. */
const PREVIOUS_TURNS = 10;

export function ask(question: string, s: AgentSettings, tools: ToolSpec[], audit: AuditLog, secrets: string[], options?: AskOptions): Promise<AskResult>;
/** The CLI's form: each tool call announced by name and input; a confirm for tools that change something. */
export function ask(
  question: string,
  s: AgentSettings,
  tools: ToolSpec[],
  audit: AuditLog,
  secrets: string[],
  onToolCall: (name: string, input: unknown) => void,
  confirm?: (tool: ToolSpec, input: unknown) => Promise<boolean>,
): Promise<AskResult>;
export async function ask(
  question: string,
  s: AgentSettings,
  tools: ToolSpec[],
  audit: AuditLog,
  secrets: string[],
  more: AskOptions | ((name: string, input: unknown) => void) = {},
  confirm?: (tool: ToolSpec, input: unknown) => Promise<boolean>,
): Promise<AskResult> {
  const o: AskOptions = typeof more === 'function' ? { events: { onToolStart: (_n, name, input) => more(name, input) }, ...(confirm ? { confirm } : {}) } : more;
  const client = new Anthropic({ apiKey: s.apiKey, ...(s.baseURL ? { baseURL: s.baseURL } : {}), maxRetries: 2, timeout: s.budgetMs });
  const scrub = makeScrubber(secrets);
  const defs = toolDefinitions(tools, false);
  // The audit entry of the call running now: its outcome, duration and size are what the person is shown.
  let recorded: AuditEntry | undefined;
  const tap: AuditLog = {
    record: (e) => {
      recorded = e;
      return audit.record(e);
    },
  };
  const ctx = { byName: new Map(tools.map((t) => [t.name, t])), seen: new Set<string>(), made: 0, maxCalls: s.maxToolCalls, maxBytes: s.toolResultBytes, audit: tap, scrub, caller: o.caller ?? 'cli', ...(o.confirm ? { confirm: o.confirm } : {}) };
  const messages: Anthropic.MessageParam[] = [
    ...(o.previous ?? []).slice(-PREVIOUS_TURNS).flatMap((t): Anthropic.MessageParam[] => [
      { role: 'user', content: scrub(t.question) },
      { role: 'assistant', content: scrub(t.answer) || '(no answer)' },
    ]),
    { role: 'user', content: scrub(question) },
  ];
  const tokens: Usage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
  const done = (answer: string, turns: number): AskResult => ({ answer, turns, calls: ctx.made, tokens, usd: Math.round(usdOf(tokens, s) * 1e6) / 1e6 });
  let n = 0;
  const budget = AbortSignal.timeout(s.budgetMs);
  for (let turn = 1; turn <= s.maxTurns; turn++) {
    const last = turn === s.maxTurns || ctx.made >= s.maxToolCalls;
    if (last) withText(messages, ASK_LAST_TURN);
    const r = await client.messages.create(
      {
        model: s.model,
        max_tokens: s.maxTokens,
        system: [{ type: 'text', text: askPrompt(tools), cache_control: { type: 'ephemeral' } }],
        tools: defs,
        // The last turn allows no tools (in words too, for servers that ignore tool_choice): an answer always comes.
        tool_choice: last ? { type: 'none' } : { type: 'auto' },
        messages,
      },
      // The budget ends the SDK's retries too (its timeout is per attempt), as well as a closed tab.
      { signal: o.signal ? AbortSignal.any([o.signal, budget]) : budget },
    );
    tokens.input += r.usage.input_tokens;
    tokens.output += r.usage.output_tokens;
    tokens.cacheWrite += r.usage.cache_creation_input_tokens ?? 0;
    tokens.cacheRead += r.usage.cache_read_input_tokens ?? 0;
    o.events?.onSpent?.(Math.round(usdOf(tokens, s) * 1e6) / 1e6, { ...tokens });
    messages.push({ role: 'assistant', content: r.content });
    const uses = r.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    // A server that ignored tool_choice may still call tools on the last turn: what it said is the answer.
    if (uses.length === 0 || last) {
      const answer = r.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n').trim();
      return done(answer || (uses.length ? '(no answer within the turn budget)' : answer), turn);
    }
    const results: Anthropic.ToolResultBlockParam[] = [];
    for (const use of uses) {
      o.signal?.throwIfAborted();
      const call = ++n;
      o.events?.onToolStart?.(call, use.name, use.input);
      const started = Date.now();
      recorded = undefined;
      results.push(await callForModel(use, ctx));
      ctx.made++;
      // No audit entry: the call was refused before it ran (a repeat, the budget, no such tool, declined).
      const e = recorded as AuditEntry | undefined;
      o.events?.onToolDone?.(call, use.name, e?.outcome ?? 'refused', e?.durationMs ?? Date.now() - started, e?.bytes ?? 0);
    }
    messages.push({ role: 'user', content: results });
  }
  return done('(no answer within the turn budget)', s.maxTurns);
}

/** A question answered for someone other than the CLI: what the dashboard calls. */
export type Asker = (question: string, options: Omit<AskOptions, 'confirm'>) => Promise<AskResult>;

/**
 * Questions answered with the tools offered at the time (read-only ones only: nobody is there to
 * confirm a change); a failure is thrown in words a person can act on, naming the model's server.
 */
export function asker(s: AgentSettings, tools: () => Promise<ToolSpec[]>, audit: AuditLog, secrets: string[]): Asker {
  return async (question, options) => {
    const offered = (await tools()).filter((t) => t.annotations.readOnly);
    try {
      return await ask(question, s, offered, audit, secrets, options);
    } catch (e) {
      if (options.signal?.aborted) throw e;
      throw new Error(describeApiError(e, serverName(s)), { cause: e });
    }
  };
}
