/** The log-in form shown when labwatch has a token and this browser has no session. */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { post, problem } from '../api.ts';
import { html } from '../html.ts';
import { Problem } from '../shared.ts';

export function Login({ onDone }: { onDone: () => Promise<void> }): VNode {
  const [token, setToken] = useState('');
  const [name, setName] = useState(() => localStorage.getItem('labwatch.name') ?? '');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await post('api/login', { token, name: name.trim() });
      localStorage.setItem('labwatch.name', name.trim());
      setToken('');
      await onDone();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <h1 tabindex="-1">Log in</h1>
    <p>This labwatch asks for its HTTP token (the content of <code>http.token_file</code>) once; the browser then keeps a session.</p>
    <form class="login" onSubmit=${submit}>
      <label for="login-token">Token</label>
      <input id="login-token" type="password" autocomplete="current-password" required value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      <label for="login-name">Your name <span class="muted">(shown on what you acknowledge)</span></label>
      <input id="login-name" type="text" autocomplete="username" required maxlength="60" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
      <${Problem} text=${error} />
    </form>
  `;
}
