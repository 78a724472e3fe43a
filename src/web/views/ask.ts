/**
 * Ask the lab a question: POST /api/ask answers as a stream (each tool call as it starts and
 * ends, then the answer and its cost). The answer is shown as text; past conversations are listed.
 */
import type { VNode } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { SessionInfo } from '../../http/api/types.ts';
import { get, postRaw, problem } from '../api.ts';
import { announce, bytes, ms, usd, when } from '../format.ts';
import { html } from '../html.ts';
import { Pending, Problem, useLoad } from '../shared.ts';
import { readSse } from '../sse.ts';

interface Call {
  n: number;
  name: string;
  input: unknown;
  outcome?: string;
  durationMs?: number;
  bytes?: number;
}
interface Done {
  conversation: string;
  turns: number;
  calls: number;
  tokens: { input: number; output: number };
  usd: number;
}
interface Turn {
  question: string;
  answer: string;
  calls: { name: string; outcome?: string }[];
  usd: number;
  at: string;
}

function Past({ onOpen, version }: { onOpen: (id: string) => void; version: number }): VNode {
  const list = useLoad(() => get<{ conversations: { id: string; at: string; question: string; usd: number }[] }>('api/conversations'), String(version));
  if (!list.data) return html`<${Pending} state=${list} what="past conversations" />`;
  if (list.data.conversations.length === 0) return html`<p class="muted">No conversation yet.</p>`;
  return html`<ul class="past">
    ${list.data.conversations.map(
      (c) => html`<li><button type="button" class="link" onClick=${() => onOpen(c.id)}>${c.question}</button> <span class="muted small">${when(c.at)} · ${usd(c.usd)}</span></li>`,
    )}
  </ul>`;
}

export function Ask({ session }: { session: SessionInfo }): VNode {
  const [question, setQuestion] = useState('');
  const [conversation, setConversation] = useState<string | undefined>(undefined);
  const [earlier, setEarlier] = useState<Turn[]>([]);
  const [asked, setAsked] = useState<string | undefined>(undefined);
  const [calls, setCalls] = useState<Call[]>([]);
  const [answer, setAnswer] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<Done | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const abort = useRef<AbortController | null>(null);

  const reset = (turns: Turn[] = []) => {
    setEarlier(turns);
    setAsked(undefined);
    setCalls([]);
    setAnswer(undefined);
    setDone(undefined);
    setError(undefined);
  };
  const open = async (id: string) => {
    try {
      const c = await get<{ id: string; turns: Turn[] }>(`api/conversations/${encodeURIComponent(id)}`);
      setConversation(c.id);
      reset(c.turns);
    } catch (e) {
      setError(problem(e));
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const q = question.trim();
    if (!q || busy) return;
    // The previous exchange of this conversation becomes history above the new one.
    if (asked && answer !== undefined) setEarlier((t) => [...t, { question: asked, answer, calls, usd: done?.usd ?? 0, at: new Date().toISOString() }]);
    setAsked(q);
    setCalls([]);
    setAnswer(undefined);
    setDone(undefined);
    setError(undefined);
    setBusy(true);
    abort.current = new AbortController();
    try {
      const res = await postRaw('api/ask', { question: q, ...(conversation ? { conversation } : {}) }, 'text/event-stream', abort.current.signal);
      if (!res.body) throw new Error('the answer had no body');
      for await (const ev of readSse(res.body)) {
        const data = JSON.parse(ev.data);
        if (ev.event === 'tool') setCalls((c) => [...c, data as Call]);
        else if (ev.event === 'tool-done') setCalls((c) => c.map((x) => (x.n === data.n ? { ...x, ...data } : x)));
        else if (ev.event === 'answer') {
          setAnswer(data.text);
          announce('The answer arrived');
        } else if (ev.event === 'done') {
          setDone(data as Done);
          setConversation((data as Done).conversation);
        } else if (ev.event === 'error') setError(data.error);
      }
      setQuestion('');
      setVersion((v) => v + 1);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') setError(problem(err));
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  return html`
    <h1 tabindex="-1">Ask the lab</h1>
    ${!session.writable ? html`<p class="muted">Log in to ask: a question runs tools and costs money.</p>` : null}
    ${earlier.map(
      (t) => html`<article class="turn"><h2 class="q">${t.question}</h2><p class="answer">${t.answer}</p><p class="muted small">${t.calls.length ? `tools: ${t.calls.map((c) => `${c.name}${c.outcome ? ` (${c.outcome})` : ''}`).join(', ')} · ` : ''}${usd(t.usd)} · ${when(t.at)}</p></article>`,
    )}
    ${asked
      ? html`<article class="turn" aria-busy=${busy}>
          <h2 class="q">${asked}</h2>
          ${calls.length
            ? html`<ol class="ask-calls" aria-label="Tool calls">
                ${calls.map(
                  (c) => html`<li><code>${c.name}</code> <code class="muted">${JSON.stringify(c.input)}</code> ${c.outcome
                      ? html`<span class=${`outcome ${c.outcome}`}>${c.outcome}</span> <span class="muted small">${ms(c.durationMs ?? 0)} · ${bytes(c.bytes)}</span>`
                      : html`<span class="muted">running…</span>`}</li>`,
                )}
              </ol>`
            : null}
          ${answer !== undefined ? html`<p class="answer">${answer}</p>` : busy ? html`<p class="muted" role="status">Thinking…</p>` : null}
          ${done ? html`<p class="muted small">${done.calls} tool call${done.calls === 1 ? '' : 's'} · ${done.tokens.input.toLocaleString()} tokens in, ${done.tokens.output.toLocaleString()} out · ${usd(done.usd)}</p>` : null}
        </article>`
      : null}
    <${Problem} text=${error} />
    <form class="ask" onSubmit=${submit}>
      <label for="ask-q">${conversation ? 'Follow-up question' : 'Question'}</label>
      <textarea id="ask-q" rows="3" required maxlength="2000" value=${question} onInput=${(e: Event) => setQuestion((e.target as HTMLTextAreaElement).value)}
        placeholder="Why is tank degraded? Which drive runs hottest?"></textarea>
      <div class="row">
        <button type="submit" disabled=${busy || !session.writable}>${busy ? 'Asking…' : 'Ask'}</button>
        ${busy ? html`<button type="button" class="secondary" onClick=${() => abort.current?.abort()}>Stop</button>` : null}
        ${conversation && !busy ? html`<button type="button" class="secondary" onClick=${() => (setConversation(undefined), reset())}>New conversation</button>` : null}
      </div>
    </form>
    <section aria-labelledby="h-past"><h2 id="h-past">Past conversations</h2><${Past} onOpen=${open} version=${version} /></section>
  `;
}
