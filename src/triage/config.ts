/** The `anthropic:` block: the model triage and `ask` use, and the bounds of each investigation. */
import * as z from 'zod';
import { duration } from '../config/parts.ts';

export const anthropicConfig = z
  .strictObject({
    api_key_file: z.string().optional(),
    /** another server that speaks the Messages API (Ollama, llama.cpp, vLLM, LiteLLM's proxy); no key needed then */
    base_url: z.string().url().optional(),
    /**
     * A model that costs nothing per token: reports say "local" instead of a price. Default: true when
     * base_url is set and no API key is (a server you run yourself); a keyed proxy may be paid, so say so.
     */
    local: z.boolean().optional(),
    model: z.string().default('claude-sonnet-5-5'),
    max_turns: z.number().int().min(2).max(40).default(8),
    max_tool_calls: z.number().int().min(0).max(60).default(12),
    /** a tool result larger than this becomes an error asking the model to narrow its call */
    tool_result_bytes: z.number().int().min(1000).max(200_000).default(16_000),
    budget: duration.default('2m'),
    max_tokens: z.number().int().min(256).max(16_000).default(2048),
    token_budget: z.number().int().min(1000).default(80_000),
    /** US$ per million tokens, for the cost in each report's footer */
    prices: z
      .strictObject({
        input: z.number().min(0).default(3),
        output: z.number().min(0).default(15),
        cache_write: z.number().min(0).default(3.75),
        cache_read: z.number().min(0).default(0.3),
      })
      .prefault({}),
  })
  .prefault({});

export type AnthropicConfig = z.infer<typeof anthropicConfig>;
