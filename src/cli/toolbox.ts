/**
 * What `tools`, `mcp` and `ask` share: the toolbox built from the config (with the incident and
 * history tools when Redis answers), the external MCP servers' tools, and the terminal's yes/no.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Redis } from 'ioredis';
import { buildHub, buildToolbox } from '../registry.ts';
import { IncidentStore } from '../incidents/store.ts';
import { ReportStore } from '../triage/reports.ts';
import { ms, secretValues } from '../config/schema.ts';
import { RuleEngine } from '../rules/engine.ts';
import { createLogger } from '../telemetry/log.ts';
import type { ToolSpec } from '../tools/types.ts';
import { storeConnection } from '../util/redis.ts';
import { configOrExit } from './common.ts';

export const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export async function toolbox(configFile: string | undefined) {
  const cfg = configOrExit(configFile);
  const redis: Redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  const connected = await redis.connect().then(
    () => true,
    () => false,
  );
  const store = new IncidentStore(redis, cfg.redis.prefix, ms(cfg.incidents.retention) / 1000);
  const reports = new ReportStore(redis, cfg.redis.prefix, ms(cfg.incidents.retention) / 1000);
  // The tools only read the kept history, which needs no rules: loading and compiling them (YAML,
  // CEL) would be a third of `labwatch mcp`'s start-up for nothing.
  const engine = new RuleEngine(redis, cfg.redis.prefix, { rules: [], files: [] }, createLogger({ level: 'silent' }));
  // Without Redis the incident and history tools would only fail: leave them out and say so.
  // A lost audit entry is said once on stderr (JSON, as the daemon logs it); the call goes on.
  const log = createLogger({ level: 'warn', secrets: secretValues(cfg) });
  const box = connected ? buildToolbox(cfg, { redis, store, reports, engine, log }) : buildToolbox(cfg, { log: createLogger({ level: 'error', secrets: secretValues(cfg) }) });
  // Offered: the tools of the systems that answer now; `all` may still be called by name (to see why one fails).
  const offer = await box.toolbox.offered();
  return { cfg, redis, connected, audit: box.audit, all: box.tools, tools: offer.tools, down: offer.down };
}

/** The toolbox plus the external MCP servers' allowed tools (for the commands that talk to Claude or list what it gets). */
export async function withExternal(configFile: string | undefined) {
  const box = await toolbox(configFile);
  const hub = buildHub(box.cfg, box.tools, pkg.version, createLogger({ level: box.cfg.log.level === 'debug' ? 'debug' : 'warn', secrets: secretValues(box.cfg) }));
  const tools = await hub.tools();
  const close = async () => {
    await hub.close();
    box.redis.disconnect();
  };
  return { ...box, hub, tools, close };
}

/**
 * A tool that changes something (e.g. alertmanager_create_silence, once enabled in config) runs
 * only after the person at the terminal says yes; without a terminal the answer is no.
 */
export async function confirmOnTerminal(tool: ToolSpec, input: unknown): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write(`labwatch: ${tool.name} changes something and there is no terminal to confirm it: refused\n`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${tool.name} would change something: ${JSON.stringify(input)}\nRun it? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
