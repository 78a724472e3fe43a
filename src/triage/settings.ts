/** The agent's settings from the config's anthropic block; null without an API key. */
import { ms } from '../config/parts.ts';
import type { AgentSettings } from './agent.ts';
import type { AnthropicConfig } from './config.ts';

export function agentSettings(cfg: { anthropic: AnthropicConfig; secrets: { anthropicApiKey?: string | undefined } }): AgentSettings | null {
  const key = cfg.secrets.anthropicApiKey;
  if (!key) return null;
  const a = cfg.anthropic;
  return {
    apiKey: key,
    ...(a.base_url ? { baseURL: a.base_url } : {}),
    model: a.model,
    maxTurns: a.max_turns,
    maxToolCalls: a.max_tool_calls,
    toolResultBytes: a.tool_result_bytes,
    budgetMs: ms(a.budget),
    maxTokens: a.max_tokens,
    tokenBudget: a.token_budget,
    prices: { input: a.prices.input, output: a.prices.output, cacheWrite: a.prices.cache_write, cacheRead: a.prices.cache_read },
  };
}
