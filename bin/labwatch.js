#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx labwatch …` works from a checkout
// with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
