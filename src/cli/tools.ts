/**
 * `labwatch tools list|call` (run any diagnostic tool from the shell) and `labwatch audit` (the
 * trail of tool calls). Incident and history tools need Redis; the rest read the system directly.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../keys.ts';
import { auditFile } from '../registry.ts';
import { runTool } from '../tools/run.ts';
import type { ToolSpec } from '../tools/types.ts';
import { storeConnection, safeRedisUrl } from '../util/redis.ts';
import { configOrExit } from './common.ts';
import { confirmOnTerminal, withExternal } from './toolbox.ts';

const inputNames = (t: ToolSpec) => Object.keys((t.schema?.json?.properties as object | undefined) ?? t.input);

export async function toolsList(opts: { config?: string; json?: boolean }): Promise<void> {
  const { tools, connected, hub, close, down: systemsDown } = await withExternal(opts.config);
  const down = hub.status().filter((s) => !s.up).map((s) => s.name);
  await close();
  if (opts.json) {
    process.stdout.write(JSON.stringify(tools.map((t) => ({ name: t.name, title: t.title, annotations: t.annotations, input: inputNames(t) })), null, 2) + '\n');
    return;
  }
  for (const t of tools) process.stdout.write(`${t.name.padEnd(22)} ${t.title}${inputNames(t).length ? ` (${inputNames(t).join(', ')})` : ''}\n`);
  if (!connected) process.stdout.write('\n(Redis is unreachable: incident and history tools are not listed)\n');
  for (const d of systemsDown) process.stdout.write(`\n(${d.system} does not answer, so its tools are not offered: ${d.why})\n`);
  if (down.length) process.stdout.write(`\n(MCP server${down.length > 1 ? 's' : ''} ${down.join(', ')} unreachable: ${down.length > 1 ? 'their' : 'its'} tools are not listed)\n`);
}

export async function toolsCall(name: string, json: string | undefined, opts: { config?: string; yes?: boolean }): Promise<void> {
  const { tools, all, audit, close } = await withExternal(opts.config);
  const tool = tools.find((t) => t.name === name) ?? all.find((t) => t.name === name);
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

/** `labwatch audit`: the tool calls recorded in Redis, oldest first; --follow keeps printing new ones. */
export async function auditShow(opts: { config?: string; incident?: string; follow?: boolean; count?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const redis: Redis = storeConnection(cfg.redis.url);
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (e) {
    process.stderr.write(`labwatch: Redis ${safeRedisUrl(cfg.redis.url)} unreachable (${(e as Error).message}); the file copy is ${auditFile(cfg)}\n`);
    process.exit(1);
  }
  const stream = redisKey(cfg.redis.prefix, 'audit');
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
