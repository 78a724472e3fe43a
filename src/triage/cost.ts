/** What a model's tokens cost, by the price table in the anthropic: block; shared by triage and ask. */
/** Tokens one investigation or question used, by kind. */
export interface Usage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** US$ per million tokens, by kind (the anthropic: block's prices). */
export interface Prices {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** US$ by the price table; 0 for a local model (its token counts are the server's estimate anyway). */
export function usdOf(u: Usage, s: { local: boolean; prices: Prices }): number {
  if (s.local) return 0;
  const p = s.prices;
  return (u.input * p.input + u.output * p.output + u.cacheWrite * p.cacheWrite + u.cacheRead * p.cacheRead) / 1e6;
}
