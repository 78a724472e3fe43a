/**
 * The dashboard's ask box: POST /api/ask answers a question as a stream of server-sent events,
 * each tool call shown as it starts and as it ends, then the answer; the turn is kept in its
 * conversation with what it cost. GET /api/conversations and /api/conversations/:id read them back.
 * The loop and its budgets are `labwatch ask`'s (triage/ask.ts); a person who goes away stops it.
 */
import type { ServerResponse } from 'node:http';
import * as z from 'zod';
import type { Asker } from '../../triage/ask.ts';
import { CONVERSATION_ID, MAX_TURNS, type ConversationStore, type TurnCall } from '../../triage/conversations.ts';
import type { Logger } from '../../telemetry/log.ts';
import { issueMessage, issuePath } from '../../util/zod.ts';
import { errorBody, type RouteModule } from '../route.ts';
import { personOf } from '../session.ts';

export interface AskDeps {
  log: Logger;
  /** answers a question with the tools; absent when no model is configured */
  ask?: Asker;
  /** where conversations are kept; absent: answers are streamed and not kept */
  conversations?: ConversationStore;
}

/** Questions answered at once by one process; more wait for the person to try again. */
const CONCURRENT_ASKS = 3;

const askBody = z.strictObject({
  question: z.string().trim().min(1, 'the question is empty').max(4000, 'the question is longer than 4000 characters'),
  conversation: z.string().regex(CONVERSATION_ID, 'a conversation id like conv-mwv0a5ue-0123abcd (from an earlier answer)').optional(),
});

export const askRoutes: RouteModule<AskDeps> = {
  name: 'ask',
  register(app, deps) {
    const running = new Set<AbortController>();
    // A stream that is still answering would hold the server open at shutdown: stop it.
    app.addHook('preClose', async () => {
      for (const c of running) c.abort();
    });

    app.post('/api/ask', { config: { access: 'person' } }, async (req, reply) => {
      if (!deps.ask)
        return reply.code(503).send(errorBody('no model is configured: the ask box needs Claude (an Anthropic API key) or a local model behind anthropic.base_url', 'set anthropic.api_key_file or anthropic.base_url'));
      const parsed = askBody.safeParse(req.body ?? {});
      if (!parsed.success)
        return reply.code(400).send(errorBody(parsed.error.issues.map((i) => `${issuePath(i.path) || 'body'}: ${issueMessage(i)}`).join('; '), 'send {"question": "…", "conversation"?: "<id from an earlier answer>"}'));
      const { question, conversation } = parsed.data;
      const earlier = conversation ? await deps.conversations?.get(conversation) : undefined;
      if (conversation && !earlier) return reply.code(404).send(errorBody(`no conversation ${conversation} (conversations are kept for incidents.retention)`, 'ask without "conversation" to start a new one'));
      if (earlier && earlier.turns >= MAX_TURNS) return reply.code(409).send(errorBody(`conversation ${conversation} has ${MAX_TURNS} turns already`, 'ask without "conversation" to start a new one'));
      if (running.size >= CONCURRENT_ASKS)
        return reply.code(429).send(errorBody(`${CONCURRENT_ASKS} questions are being answered already`, 'wait for one of them to finish, then ask again'));

      const controller = new AbortController();
      running.add(controller);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      // The page knows at once that its question is being answered, before the first event.
      res.flushHeaders();
      // The person closed the page or the connection dropped: no more model turns or tool calls for nobody.
      res.on('close', () => controller.abort());
      const send = event(res);
      const calls: TurnCall[] = [];
      const by = personOf(req).name;
      // What the model turns already cost, kept even when the answer never comes.
      let spent = { usd: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } };
      try {
        const r = await deps.ask(question, {
          caller: 'dashboard',
          signal: controller.signal,
          previous: earlier?.turnList ?? [],
          events: {
            onToolStart: (n, name, input) => {
              calls[n - 1] = { name, input, outcome: 'running', durationMs: 0, bytes: 0 };
              send('tool', { n, name, input });
            },
            onSpent: (usd, tokens) => {
              spent = { usd, tokens };
            },
            onToolDone: (n, name, outcome, durationMs, bytes) => {
              calls[n - 1] = { name, input: calls[n - 1]?.input ?? null, outcome, durationMs, bytes };
              send('tool-done', { n, name, outcome, durationMs, bytes });
            },
          },
        });
        send('answer', { text: r.answer });
        const turn = { at: new Date().toISOString(), question, answer: r.answer, calls, tokens: r.tokens, usd: r.usd };
        const kept = deps.conversations ? await deps.conversations.append(conversation, by, turn) : undefined;
        send('done', { conversation: kept?.id ?? null, turns: r.turns, calls: r.calls, tokens: { input: r.tokens.input, output: r.tokens.output }, usd: r.usd });
      } catch (e) {
        const why = controller.signal.aborted ? 'stopped: the page was closed' : (e as Error).message;
        if (!controller.signal.aborted) {
          deps.log.warn({ err: why, by }, 'ask: the question could not be answered');
          send('error', { error: why });
        }
        // Paid for all the same: the turn is kept, unfinished, so the day's spend and the conversation say so.
        if (spent.usd > 0 || spent.tokens.input > 0)
          await deps.conversations
            ?.append(conversation, by, { at: new Date().toISOString(), question, answer: `(no answer: ${why})`, calls, tokens: spent.tokens, usd: spent.usd })
            .catch((err: Error) => deps.log.warn({ err: err.message }, 'ask: could not keep the unfinished turn'));
      } finally {
        running.delete(controller);
        res.end();
      }
    });

    app.get('/api/conversations', { config: { access: 'person' } }, async () => ({ conversations: (await deps.conversations?.recent()) ?? [] }));

    app.get<{ Params: { id: string } }>('/api/conversations/:id', { config: { access: 'person' } }, async (req, reply) => {
      const { id } = req.params;
      if (!CONVERSATION_ID.test(id)) return reply.code(400).send(errorBody('not a conversation id; ids look like conv-mwv0a5ue-0123abcd'));
      const c = await deps.conversations?.get(id);
      if (!c) return reply.code(404).send(errorBody(`no conversation ${id} (conversations are kept for incidents.retention)`));
      return { id: c.id, at: c.at, by: c.by, question: c.question, usd: c.usd, turns: c.turnList };
    });
  },
};

/** Writes one server-sent event at once; nothing once the stream has closed. */
function event(res: ServerResponse) {
  return (name: 'tool' | 'tool-done' | 'answer' | 'done' | 'error', data: unknown): void => {
    if (res.writableEnded || res.destroyed) return;
    // JSON.stringify writes no newline, so the data is one `data:` line.
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}
