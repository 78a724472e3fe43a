/**
 * Triage by Claude: a bounded agent loop over @anthropic-ai/sdk with labwatch's read-only tools.
 * Bounds: turns, tool calls, bytes per tool result (via runTool), wall clock, tokens; identical
 * repeated calls are refused; the last turn forces submit_report (tool_choice, and in words for
 * servers that ignore tool_choice; a report given as JSON text is accepted when it validates) so an
 * answer always comes. Any failure (API errors after the SDK's retries, budget, an invalid report
 * twice) falls back to the deterministic report, which says why: an AI outage never swallows an alert.
 */
import Anthropic from '@anthropic-ai/sdk';
import * as z from 'zod';
import type { Incident } from '../incidents/types.ts';
import type { Logger } from '../telemetry/log.ts';
import { makeScrubber } from '../telemetry/log.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { AuditLog } from '../tools/audit.ts';
import { runTool, type RunOptions } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';
import { usdOf, type Prices, type Usage } from './cost.ts';
import { deterministicReport } from './deterministic.ts';
import { enrichedReport } from './enrich.ts';
import type { Triager } from './index.ts';
import { SUBMIT_TOOL, systemPrompt, incidentMessage, lastTurnRequest, reportInput, untrusted, type ReportInput } from './prompt.ts';
import type { Report, TriageCost } from './report.ts';

export interface AgentSettings {
  apiKey: string;
  baseURL?: string;
  /** a model that costs nothing per token (one's own server): no price, "local" in the footer */
  local: boolean;
  model: string;
  maxTurns: number;
  maxToolCalls: number;
  toolResultBytes: number;
  budgetMs: number;
  maxTokens: number;
  tokenBudget: number;
  /** US$ per million tokens */
  prices: Prices;
}

class Fallback extends Error {}

export class AiTriager implements Triager {
  readonly #scrub: (s: string) => string;

  constructor(
    private readonly s: AgentSettings,
    /** the tools offered; a function when they can change (external MCP servers come and go) */
    private readonly tools: ToolSpec[] | (() => Promise<ToolSpec[]>),
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    secrets: string[],
  ) {
    this.#scrub = makeScrubber(secrets);
  }

  async investigate(incident: Incident): Promise<Report> {
    const started = Date.now();
    const usage: Usage = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    // Unattended: only tools that read. A write tool (even one enabled in config) needs a person to confirm it.
    const tools = (typeof this.tools === 'function' ? await this.tools() : this.tools).filter((t) => t.annotations.readOnly);
    try {
      const { answer, turns, calls } = await this.#loop(incident, tools, usage, started);
      this.metrics.triageOutcome.inc({ outcome: 'ai' });
      return { ...this.#report(incident, answer, usage, turns, calls), triage: this.#cost(usage) };
    } catch (e) {
      const why = e instanceof Fallback ? e.message : describeApiError(e, serverName(this.s));
      this.metrics.triageOutcome.inc({ outcome: 'fallback' });
      this.log.warn({ incident: incident.id, err: why }, 'AI triage failed; sending the deterministic report');
      const report = await enrichedReport(incident, tools, this.audit, [`AI triage failed (${why}); this report is built from the alert and labwatch's default checks.`]);
      // Tokens spent before the failure still cost money: keep the count.
      return usage.input + usage.output > 0 ? { ...report, triage: this.#cost(usage) } : report;
    } finally {
      this.metrics.triageDuration.observe((Date.now() - started) / 1000);
      for (const [kind, n] of Object.entries(usage)) if (n) this.metrics.triageTokens.inc({ kind }, n);
    }
  }

  async #loop(incident: Incident, offered: ToolSpec[], usage: Usage, started: number): Promise<{ answer: ReportInput; turns: number; calls: number }> {
    const tools = toolDefinitions(offered, true); // the same every turn: tools + system are the cached prefix
    const system = systemPrompt(offered);
    const byName = new Map(offered.map((t) => [t.name, t]));
    // Content as blocks from the start: what a request marks for the cache is byte-identical when the next one resends it.
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: this.#scrub(incidentMessage(incident)) }] }];
    // One client per investigation, whose fetch remembers the last answer's status: when the budget
    // ends a retry's wait (429, 529 with Retry-After), the report says what the API answered.
    let answered: number | undefined;
    const client = new Anthropic({
      apiKey: this.s.apiKey,
      ...(this.s.baseURL ? { baseURL: this.s.baseURL } : {}),
      maxRetries: 2,
      timeout: 60_000,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        answered = res.status;
        return res;
      },
    });
    const seen = new Set<string>();
    let calls = 0;
    let invalid = 0;
    for (let turn = 1; turn <= this.s.maxTurns; turn++) {
      const elapsed = Date.now() - started;
      if (elapsed > this.s.budgetMs) throw new Fallback(`wall-clock budget of ${this.s.budgetMs} ms exhausted`);
      const spent = usage.input + usage.output + usage.cacheWrite + usage.cacheRead;
      if (spent > this.s.tokenBudget) throw new Fallback(`token budget of ${this.s.tokenBudget} exhausted`);
      const last = turn === this.s.maxTurns || calls >= this.s.maxToolCalls;
      if (last) withText(messages, lastTurnRequest());
      // The timeout is per attempt and the SDK retries a timed-out one (twice): a hanging API took
      // three budgets. The signal ends the retries too when the budget is spent.
      const left = Math.max(1000, this.s.budgetMs - elapsed);
      answered = undefined;
      const response = await client.messages.create(
        {
          model: this.s.model,
          max_tokens: this.s.maxTokens,
          system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
          tools,
          tool_choice: last ? { type: 'tool', name: SUBMIT_TOOL } : { type: 'auto' },
          messages: markLatest(messages),
        },
        { timeout: left, signal: AbortSignal.timeout(left) },
      ).catch((e: unknown) => {
        if (!(e instanceof Anthropic.APIUserAbortError)) throw e;
        const said = answered === 429 ? ' (rate limited)' : answered === 529 ? ' (overloaded)' : '';
        throw new Fallback(answered && answered >= 400 ? `${serverName(this.s)} answered ${answered}${said} and was still retrying when the budget ran out` : `${serverName(this.s)} did not answer in time`);
      });
      usage.input += response.usage.input_tokens;
      usage.output += response.usage.output_tokens;
      usage.cacheWrite += response.usage.cache_creation_input_tokens ?? 0;
      usage.cacheRead += response.usage.cache_read_input_tokens ?? 0;
      messages.push({ role: 'assistant', content: response.content });

      const uses = response.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const use of uses) {
        if (use.name === SUBMIT_TOOL) {
          const parsed = reportInput.safeParse(use.input);
          if (parsed.success) return { answer: parsed.data, turns: turn, calls };
          if (++invalid >= 2) throw new Fallback('the model gave an invalid report twice');
          results.push({ type: 'tool_result', tool_use_id: use.id, is_error: true, content: `invalid report: ${issues(parsed.error)}. Call ${SUBMIT_TOOL} again with a valid report.` });
          continue;
        }
        results.push(await callForModel(use, { byName, seen, made: calls++, maxCalls: this.s.maxToolCalls, maxBytes: this.s.toolResultBytes, audit: this.audit, scrub: this.#scrub, caller: 'triage', incident: incident.id }));
      }
      if (uses.length === 0) {
        // Servers that ignore tool_choice: the model may answer with the report as JSON text.
        const asText = reportFromText(response.content);
        if (asText?.success) return { answer: asText.data, turns: turn, calls };
        if (last) throw new Fallback(asText ? `the model's last answer was not a valid report (${issues(asText.error)})` : 'the model answered the last turn in words, without a report');
        if (asText && ++invalid >= 2) throw new Fallback('the model gave an invalid report twice');
        const text = asText ? `invalid report: ${issues(asText.error)}. Call ${SUBMIT_TOOL} again with a valid report.` : `Call ${SUBMIT_TOOL} now with your report.`;
        messages.push({ role: 'user', content: [{ type: 'text', text }] });
        continue;
      }
      messages.push({ role: 'user', content: results });
    }
    throw new Fallback(`no report after ${this.s.maxTurns} turns`);
  }

  #usd(u: Usage): number {
    return usdOf(u, this.s);
  }

  #cost(u: Usage): TriageCost {
    const usd = this.#usd(u);
    this.metrics.triageCost.inc(usd);
    return { model: this.s.model, tokens: { ...u }, costUsd: Math.round(usd * 1e6) / 1e6, ...(this.s.local ? { local: true } : {}) };
  }

  #report(incident: Incident, a: ReportInput, u: Usage, turns: number, calls: number): Report {
    const base = deterministicReport(incident);
    return {
      ...base,
      producer: 'ai',
      summary: a.summary,
      facts: a.facts.map((f) => ({ text: f.text, source: f.tool_call })),
      causes: a.causes,
      actions: a.actions,
      notes: [
        ...(a.not_checked.length ? [`Not checked: ${a.not_checked.join('; ')}.`] : []),
        this.s.local
          ? `Investigated by ${this.s.model}, a local model: ${turns} turns, ${calls} tool calls; about ${u.input} tokens in, ${u.output} out (as the server counts them); local, no cost.`
          : `Investigated by Claude (${this.s.model}): ${turns} turns, ${calls} tool calls; tokens ${u.input} in, ${u.output} out, ${u.cacheRead} cache read, ${u.cacheWrite} cache write; about $${this.#usd(u).toFixed(4)}.`,
      ],
    };
  }
}

/**
 * The conversation so far with a cache breakpoint on its newest block: the next turn reads all of
 * it (earlier tool results included) from the cache instead of paying for it again. One moving
 * breakpoint plus the system prompt's stays within the API's four.
 */
function markLatest(messages: Anthropic.MessageParam[]): Anthropic.MessageParam[] {
  const lastMsg = messages.at(-1);
  if (!lastMsg) return messages;
  const blocks: Anthropic.ContentBlockParam[] = typeof lastMsg.content === 'string' ? [{ type: 'text', text: lastMsg.content }] : [...lastMsg.content];
  const tail = blocks.at(-1);
  if (!tail || tail.type === 'thinking' || tail.type === 'redacted_thinking') return messages;
  blocks[blocks.length - 1] = { ...tail, cache_control: { type: 'ephemeral' } } as Anthropic.ContentBlockParam;
  return [...messages.slice(0, -1), { ...lastMsg, content: blocks } as Anthropic.MessageParam];
}

/** An API failure in words for the report: which error, after the SDK's retries. */
export function describeApiError(e: unknown, server = 'the Anthropic API'): string {
  if (e instanceof Anthropic.APIConnectionTimeoutError || e instanceof Anthropic.APIUserAbortError) return `${server} did not answer in time`;
  if (e instanceof Anthropic.APIConnectionError) return `${server} could not be reached`;
  if (e instanceof Anthropic.APIError) return `${server} answered ${e.status ?? '?'}${e.status === 529 ? ' (overloaded)' : e.status === 429 ? ' (rate limited)' : ''} after retries`;
  return (e as Error).message;
}

/** Who answers, in words: a local server by its host (never the whole URL, which could carry a password). */
export function serverName(s: Pick<AgentSettings, 'local' | 'baseURL'>): string {
  return s.local && s.baseURL ? `the local model server ${new URL(s.baseURL).host}` : 'the Anthropic API';
}

/** Appends words to the newest (user) message: tool results stay first, as the API wants. */
export function withText(messages: Anthropic.MessageParam[], text: string): void {
  const m = messages.at(-1);
  if (!m) return;
  const blocks: Anthropic.ContentBlockParam[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : [...m.content];
  messages[messages.length - 1] = { ...m, content: [...blocks, { type: 'text', text }] } as Anthropic.MessageParam;
}

const issues = (e: z.ZodError): string => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/**
 * The report when the model wrote it as JSON text (bare, or fenced as ```json) instead of calling
 * submit_report; null when the text holds no JSON object at all.
 */
function reportFromText(content: Anthropic.ContentBlock[]): z.ZodSafeParseResult<ReportInput> | null {
  const text = content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n\s*```/.exec(text)?.[1];
  const candidate = fenced ?? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  if (!candidate.trim().startsWith('{')) return null;
  let json: unknown;
  try {
    json = JSON.parse(candidate);
  } catch {
    return null;
  }
  return reportInput.safeParse(json);
}

/** The tools as the API wants them (JSON Schema from zod), optionally with submit_report last. */
export function toolDefinitions(tools: ToolSpec[], withSubmit: boolean): Anthropic.Tool[] {
  const defs: Anthropic.Tool[] = tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: (t.schema?.json ?? z.toJSONSchema(z.strictObject(t.input), { io: 'input' })) as Anthropic.Tool.InputSchema,
  }));
  if (withSubmit)
    defs.push({
      name: SUBMIT_TOOL,
      description: 'Submit the triage report. Call it once, when you have the evidence (or when told this is the last turn).',
      input_schema: z.toJSONSchema(reportInput, { io: 'input' }) as Anthropic.Tool.InputSchema,
    });
  return defs;
}

export interface CallContext {
  byName: Map<string, ToolSpec>;
  /** calls already made in this conversation (identical repeats are refused) */
  seen: Set<string>;
  made: number;
  maxCalls: number;
  maxBytes: number;
  audit: AuditLog;
  scrub: (s: string) => string;
  caller: RunOptions['caller'];
  incident?: string;
  /** asks the person whether a tool that changes something may run; absent: such tools are refused */
  confirm?: (tool: ToolSpec, input: unknown) => Promise<boolean>;
}

/** Runs one tool the model asked for, within the budgets; its result goes back wrapped as untrusted data. */
export async function callForModel(use: Anthropic.ToolUseBlock, c: CallContext): Promise<Anthropic.ToolResultBlockParam> {
  const error = (text: string): Anthropic.ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: use.id, is_error: true, content: text });
  const tool = c.byName.get(use.name);
  if (!tool) return error(`no tool named ${use.name}`);
  const key = `${use.name} ${JSON.stringify(use.input)}`;
  if (c.seen.has(key)) return error('you already made this exact call; use its earlier result');
  c.seen.add(key);
  if (c.made >= c.maxCalls) return error(`the tool-call budget (${c.maxCalls}) is spent; answer with what you have`);
  if (!tool.annotations.readOnly) {
    if (!c.confirm) return error(`${use.name} changes something and nobody is here to confirm it; say what you would do instead`);
    if (!(await c.confirm(tool, use.input))) return error(`the owner declined ${use.name}; do not try it again, say what you would do instead`);
  }
  const r = await runTool(tool, use.input, c.audit, { caller: c.caller, ...(c.incident ? { incident: c.incident } : {}), maxBytes: c.maxBytes });
  const body = c.scrub(untrusted(`tool:${use.name}`, { status: r.status, text: r.text, data: r.data ?? null }));
  return { type: 'tool_result', tool_use_id: use.id, content: body, ...(r.status === 'error' ? { is_error: true } : {}) };
}
