/** The agent's settings from the config's anthropic block; null (AI triage off) without an API key or a base URL. */
import { ms } from '../config/parts.ts';
import type { AgentSettings } from './agent.ts';
import type { AnthropicConfig } from './config.ts';

/**
 * What the SDK is given as key when a base URL is set without one: the SDK insists on some key, and
 * local servers ignore it. Not a secret, so nothing to scrub.
 */
const NO_KEY = 'labwatch-no-key';

export function agentSettings(cfg: { anthropic: AnthropicConfig; secrets: { anthropicApiKey?: string | undefined } }): AgentSettings | null {
  const key = cfg.secrets.anthropicApiKey;
  const a = cfg.anthropic;
  if (!key && !a.base_url) return null;
  return {
    apiKey: key || NO_KEY,
    ...(a.base_url ? { baseURL: a.base_url } : {}),
    local: a.local ?? (!!a.base_url && !key),
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
