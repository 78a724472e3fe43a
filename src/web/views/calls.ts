/** The investigation as a table of tool calls, each result fetched on demand (they can be large). */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { ToolCallRow } from '../../http/api/types.ts';
import { get, problem } from '../api.ts';
import { bytes, ms } from '../format.ts';
import { html } from '../html.ts';

function Result({ incident, call }: { incident: string; call: ToolCallRow }): VNode {
  const [text, setText] = useState<string | null | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const toggle = async () => {
    if (open) return setOpen(false);
    setOpen(true);
    if (text !== undefined) return;
    try {
      setText((await get<{ result: string | null }>(`api/incidents/${encodeURIComponent(incident)}/calls/${call.n}`)).result);
    } catch (e) {
      setError(problem(e));
    }
  };
  if (!call.hasResult) return html`<span class="muted">not kept</span>`;
  const id = `call-result-${call.n}`;
  return html`
    <button type="button" class="small" aria-expanded=${open} aria-controls=${id} onClick=${toggle}>${open ? 'Hide result' : 'Show result'}</button>
    ${open
      ? html`<div id=${id} class="result">
          ${error ? html`<p class="problem" role="alert">${error}</p>` : text === undefined ? html`<p class="muted">Loading…</p>` : html`<pre>${text ?? '(no result kept)'}</pre>`}
        </div>`
      : null}
  `;
}

export function Calls({ incident, calls }: { incident: string; calls: ToolCallRow[] }): VNode {
  if (calls.length === 0) return html`<p class="muted">No tool was called for this incident.</p>`;
  return html`
    <div class="scroll" role="region" aria-label="Tool calls" tabindex="0">
      <table class="calls">
        <thead><tr><th scope="col">#</th><th scope="col">Tool</th><th scope="col">Arguments</th><th scope="col">Duration</th><th scope="col">Bytes</th><th scope="col">Outcome</th><th scope="col">Result</th></tr></thead>
        <tbody>
          ${calls.map(
            (c) => html`<tr>
              <td>${c.n}</td>
              <td><code>${c.tool}</code>${c.caller && c.caller !== 'triage' ? html`<div class="muted">${c.caller}</div>` : null}</td>
              <td class="args"><code>${JSON.stringify(c.args)}</code></td>
              <td class="num">${ms(c.durationMs)}</td>
              <td class="num">${bytes(c.bytes)}</td>
              <td><span class=${`outcome ${c.outcome}`}>${c.outcome}</span></td>
              <td><${Result} incident=${incident} call=${c} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  `;
}
