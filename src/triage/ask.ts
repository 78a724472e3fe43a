/**
 * `labwatch ask`: the owner's question, answered by Claude with the same read-only tools, budgets
 * and untrusted-data rules as triage. The question is the one trusted input; the answer is text.
 */
import Anthropic from '@anthropic-ai/sdk';
import { makeScrubber } from '../telemetry/log.ts';
import type { AuditLog } from '../tools/audit.ts';
import type { ToolSpec } from '../tools/types.ts';
import { callForModel, toolDefinitions, withText, type AgentSettings } from './agent.ts';
import { ASK_LAST_TURN, askPrompt } from './prompt.ts';

export interface AskResult {
  answer: string;
  turns: number;
  calls: number;
  tokens: { input: number; output: number };
}

export async function ask(
  question: string,
  s: AgentSettings,
  tools: ToolSpec[],
  audit: AuditLog,
  secrets: string[],
  onToolCall: (name: string, input: unknown) => void = () => {},
  confirm?: (tool: ToolSpec, input: unknown) => Promise<boolean>,
): Promise<AskResult> {
  const client = new Anthropic({ apiKey: s.apiKey, ...(s.baseURL ? { baseURL: s.baseURL } : {}), maxRetries: 2, timeout: s.budgetMs });
  const scrub = makeScrubber(secrets);
  const defs = toolDefinitions(tools, false);
  const ctx = { byName: new Map(tools.map((t) => [t.name, t])), seen: new Set<string>(), made: 0, maxCalls: s.maxToolCalls, maxBytes: s.toolResultBytes, audit, scrub, caller: 'cli' as const, ...(confirm ? { confirm } : {}) };
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: scrub(question) }];
  const tokens = { input: 0, output: 0 };
  for (let turn = 1; turn <= s.maxTurns; turn++) {
    const last = turn === s.maxTurns || ctx.made >= s.maxToolCalls;
    if (last) withText(messages, ASK_LAST_TURN);
    const r = await client.messages.create({
      model: s.model,
      max_tokens: s.maxTokens,
      system: [{ type: 'text', text: askPrompt(tools), cache_control: { type: 'ephemeral' } }],
      tools: defs,
      // The last turn allows no tools (in words too, for servers that ignore tool_choice): an answer always comes.
      tool_choice: last ? { type: 'none' } : { type: 'auto' },
      messages,
    });
    tokens.input += r.usage.input_tokens;
    tokens.output += r.usage.output_tokens;
    messages.push({ role: 'assistant', content: r.content });
    const uses = r.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    // A server that ignored tool_choice may still call tools on the last turn: what it said is the answer.
    if (uses.length === 0 || last) {
      const answer = r.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n').trim();
      return { answer: answer || (uses.length ? '(no answer within the turn budget)' : answer), turns: turn, calls: ctx.made, tokens };
    }
    const results: Anthropic.ToolResultBlockParam[] = [];
    for (const use of uses) {
      onToolCall(use.name, use.input);
      results.push(await callForModel(use, ctx));
      ctx.made++;
    }
    messages.push({ role: 'user', content: results });
  }
  return { answer: '(no answer within the turn budget)', turns: s.maxTurns, calls: ctx.made, tokens };
}
