/**
 * `labwatch tools list|call` (run any diagnostic tool from the shell) and `labwatch mcp` (serve
 * them over stdio to Claude Desktop or Claude Code). Incident and history tools need Redis; the
 * rest read the system directly.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Redis } from 'ioredis';
import { storeConnection } from '../daemon.ts';
import { SHIPPED_RULES, auditFile, buildHub, buildToolbox } from '../registry.ts';
import { IncidentStore } from '../incidents/store.ts';
import { serveStdio } from '../mcp/server.ts';
import { ms, secretValues } from '../config/schema.ts';
import { RuleEngine } from '../rules/engine.ts';
import { loadRules } from '../rules/load.ts';
import { createLogger } from '../telemetry/log.ts';
import { runTool } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';
import { ask } from '../triage/ask.ts';
import { describeApiError } from '../triage/agent.ts';
import { agentSettings } from '../triage/settings.ts';
import { configOrExit } from './common.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function toolbox(configFile: string | undefined) {
  const cfg = configOrExit(configFile);
  const redis: Redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  const connected = await redis.connect().then(
    () => true,
    () => false,
  );
  const store = new IncidentStore(redis, cfg.redis.prefix, ms(cfg.incidents.retention) / 1000);
  const engine = new RuleEngine(redis, cfg.redis.prefix, loadRules(cfg.rules.dir ?? SHIPPED_RULES), createLogger({ level: 'silent' }));
  // Without Redis the incident and history tools would only fail: leave them out and say so.
  // A lost audit entry is said once on stderr (JSON, as the daemon logs it); the call goes on.
  const log = createLogger({ level: 'warn', secrets: secretValues(cfg) });
  const box = connected ? buildToolbox(cfg, { redis, store, engine, log }) : buildToolbox(cfg, { log });
  return { cfg, redis, connected, ...box };
}

/** The toolbox plus the external MCP servers' allowed tools (for the commands that talk to Claude or list what it gets). */
async function withExternal(configFile: string | undefined) {
  const box = await toolbox(configFile);
  const hub = buildHub(box.cfg, box.tools, pkg.version, createLogger({ level: box.cfg.log.level === 'debug' ? 'debug' : 'warn', secrets: secretValues(box.cfg) }));
  const tools = await hub.tools();
  const close = async () => {
    await hub.close();
    box.redis.disconnect();
  };
  return { ...box, hub, tools, close };
}

const inputNames = (t: ToolSpec) => Object.keys((t.schema?.json?.properties as object | undefined) ?? t.input);

export async function toolsList(opts: { config?: string; json?: boolean }): Promise<void> {
  const { tools, connected, hub, close } = await withExternal(opts.config);
  const down = hub.status().filter((s) => !s.up).map((s) => s.name);
  await close();
  if (opts.json) {
    process.stdout.write(JSON.stringify(tools.map((t) => ({ name: t.name, title: t.title, annotations: t.annotations, input: inputNames(t) })), null, 2) + '\n');
    return;
  }
  for (const t of tools) process.stdout.write(`${t.name.padEnd(22)} ${t.title}${inputNames(t).length ? ` (${inputNames(t).join(', ')})` : ''}\n`);
  if (!connected) process.stdout.write('\n(Redis is unreachable: incident and history tools are not listed)\n');
  if (down.length) process.stdout.write(`\n(MCP server${down.length > 1 ? 's' : ''} ${down.join(', ')} unreachable: ${down.length > 1 ? 'their' : 'its'} tools are not listed)\n`);
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

export async function toolsCall(name: string, json: string | undefined, opts: { config?: string; yes?: boolean }): Promise<void> {
  const { tools, audit, close } = await withExternal(opts.config);
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    await close();
    process.stderr.write(`labwatch: no tool ${name}; labwatch tools list shows them\n`);
    process.exit(1);
  }
  let args: unknown = {};
  try {
    args = json ? JSON.parse(json) : {};
  } catch (e) {
    await close();
    process.stderr.write(`labwatch: the arguments are not JSON (${(e as Error).message}); e.g. '{"drive":"disk:WD-123"}'\n`);
    process.exit(1);
  }
  if (!tool.annotations.readOnly && !opts.yes && !(await confirmOnTerminal(tool, args))) {
    await close();
    process.stderr.write(`labwatch: ${name} not run (confirm at the prompt, or pass --yes)\n`);
    process.exit(1);
  }
  const result = await runTool(tool, args, audit, { caller: 'cli' });
  await close();
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (result.status === 'error') process.exit(1);
}

export async function mcpStdio(opts: { config?: string }): Promise<void> {
  const { tools, audit, redis } = await toolbox(opts.config);
  const server = await serveStdio({ tools, audit, version: pkg.version });
  // The client closing our stdin is the end of the session (the SDK's transport does not watch for
  // it): let go of Redis so the process exits at once instead of waiting for the client's SIGTERM.
  process.stdin.once('end', () => {
    void server.close().finally(() => redis.disconnect());
  });
}

/** `labwatch audit`: the tool calls recorded in Redis, oldest first; --follow keeps printing new ones. */
export async function auditShow(opts: { config?: string; incident?: string; follow?: boolean; count?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const redis: Redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (e) {
    process.stderr.write(`labwatch: Redis ${cfg.redis.url.replace(/:[^:@/]*@/, ':[REDACTED]@')} unreachable (${(e as Error).message}); the file copy is ${auditFile(cfg)}\n`);
    process.exit(1);
  }
  const stream = `${cfg.redis.prefix}:audit`;
  const show = (fields: string[]) => {
    const e = JSON.parse(fields[1]!) as { at: string; caller: string; incident?: string; tool: string; args: unknown; durationMs: number; bytes: number; outcome: string };
    if (opts.incident && e.incident !== opts.incident) return;
    process.stdout.write(`${e.at}  ${e.caller.padEnd(6)} ${e.tool.padEnd(20)} ${e.outcome.padEnd(7)} ${String(e.durationMs).padStart(6)} ms ${String(e.bytes).padStart(7)} B  ${JSON.stringify(e.args)}${e.incident ? `  ${e.incident}` : ''}\n`);
  };
  const rows = (await redis.xrevrange(stream, '+', '-', 'COUNT', Number(opts.count ?? 50))).reverse();
  for (const [, fields] of rows) show(fields);
  if (!opts.follow) {
    redis.disconnect();
    return;
  }
  let last = rows.at(-1)?.[0] ?? '$';
  for (;;) {
    const res = (await redis.call('XREAD', 'BLOCK', '0', 'STREAMS', stream, last)) as [string, [string, string[]][]][] | null;
    for (const [, entries] of res ?? [])
      for (const [id, fields] of entries) {
        show(fields);
        last = id;
      }
  }
}

/** `labwatch ask "…"`: each tool call is shown as it happens (stderr), then the answer (stdout). */
export async function askCommand(question: string, opts: { config?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const settings = agentSettings(cfg);
  if (!settings) {
    process.stderr.write('labwatch ask needs an Anthropic API key: set anthropic.api_key_file or ANTHROPIC_API_KEY\n');
    process.exit(1);
  }
  const { tools, audit, close } = await withExternal(opts.config);
  try {
    const r = await ask(
      question,
      settings,
      tools,
      audit,
      secretValues(cfg),
      (name, input) => process.stderr.write(`→ ${name} ${JSON.stringify(input)}\n`),
      confirmOnTerminal,
    );
    process.stdout.write(`${r.answer}\n`);
    process.stderr.write(`(${r.turns} turns, ${r.calls} tool calls, ${r.tokens.input} tokens in, ${r.tokens.output} out)\n`);
  } catch (e) {
    process.stderr.write(`labwatch ask: ${describeApiError(e)}\n`);
    process.exitCode = 1;
  } finally {
    await close();
  }
}
