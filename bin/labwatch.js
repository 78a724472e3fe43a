#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`) while it is up to date with src/; otherwise
// the TypeScript sources through tsx, as from a checkout with no build step (slower to start: tsx
// compiles every module the command imports). LABWATCH_FROM_SOURCES=1 runs the sources regardless.
import { buildState } from './built.js';

const state = process.env.LABWATCH_FROM_SOURCES === '1' ? { fresh: false } : buildState();
if (state.fresh) {
  await import('../dist/cli.js');
} else {
  // Never a stale build: an edited source runs as it is now. Said on a terminal only, where a person
  // reads it; stderr in a pipe belongs to whatever reads it (an MCP client, a test, journald).
  if (state.changed && process.stderr.isTTY)
    process.stderr.write(`labwatch: ${state.changed} changed since the last build; running the sources through tsx (slower; npm run build)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
