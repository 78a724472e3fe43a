/** `labwatch ask`: the model (Claude, or a local one behind anthropic.base_url) answers a question about the lab with the tools. */
import { secretValues } from '../config/schema.ts';
import { ask } from '../triage/ask.ts';
import { describeApiError, serverName } from '../triage/agent.ts';
import { agentSettings } from '../triage/settings.ts';
import { configOrExit } from './common.ts';
import { confirmOnTerminal, withExternal } from './toolbox.ts';

/** `labwatch ask "…"`: each tool call is shown as it happens (stderr), then the answer (stdout). */
export async function askCommand(question: string, opts: { config?: string }): Promise<void> {
  const cfg = configOrExit(opts.config);
  const settings = agentSettings(cfg);
  if (!settings) {
    process.stderr.write('labwatch ask needs a model: set anthropic.api_key_file or ANTHROPIC_API_KEY, or anthropic.base_url for a local one\n');
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
    process.stderr.write(`labwatch ask: ${describeApiError(e, serverName(settings))}\n`);
    process.exitCode = 1;
  } finally {
    await close();
  }
}
