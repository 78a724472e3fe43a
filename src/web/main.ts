/**
 * The labwatch dashboard: one page, hash routes (#/incidents, #/incidents/<id>, #/drives, #/pools,
 * #/lab, #/ask, #/status), data from /api/*. Built by `npm run build` into dist/web/.
 */
import './style.css';
import 'uplot/dist/uPlot.min.css';
import { render, type VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionInfo } from '../http/api/types.ts';
import { get, post, prefetch, problem, setCsrf } from './api.ts';
import { html } from './html.ts';
import { Problem } from './shared.ts';
import { Ask } from './views/ask.ts';
import { Drives } from './views/drives.ts';
import { Incident } from './views/incident.ts';
import { Incidents, incidentsPath } from './views/incidents.ts';
import { Lab } from './views/lab.ts';
import { Login } from './views/login.ts';
import { Pools } from './views/pools.ts';
import { Status } from './views/status.ts';

const SECTIONS = [
  ['incidents', 'Incidents'],
  ['drives', 'Drives'],
  ['pools', 'Pools'],
  ['lab', 'Lab'],
  ['ask', 'Ask'],
  ['status', 'Status'],
] as const;

interface Route {
  section: string;
  id?: string;
  query: URLSearchParams;
}

function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [section = 'incidents', id] = path.split('/').map((p) => decodeURIComponent(p));
  return { section: section || 'incidents', ...(id ? { id } : {}), query: new URLSearchParams(search) };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function View({ route, session }: { route: Route; session: SessionInfo }): VNode {
  switch (route.section) {
    case 'incidents':
      return route.id ? html`<${Incident} id=${route.id} session=${session} />` : html`<${Incidents} query=${route.query} />`;
    case 'drives':
      return html`<${Drives} />`;
    case 'pools':
      return html`<${Pools} />`;
    case 'lab':
      return html`<${Lab} />`;
    case 'ask':
      return html`<${Ask} session=${session} />`;
    case 'status':
      return html`<${Status} />`;
    default:
      return html`<h1 tabindex="-1">Not found</h1><p>There is no page "${route.section}". <a href="#/incidents">See the incidents</a>.</p>`;
  }
}

function App(): VNode {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const main = useRef<HTMLElement>(null);

  const readSession = async () => {
    try {
      const s = await get<SessionInfo>('api/session');
      // The list's data is asked for now rather than once its view has rendered (one frame and more).
      const route = parseRoute(location.hash);
      if (!s.loginRequired && route.section === 'incidents' && !route.id) prefetch(incidentsPath(route.query));
      setCsrf(s.csrf);
      setSession(s);
      setError(undefined);
    } catch (e) {
      setError(problem(e));
    }
  };
  useEffect(() => void readSession(), []);
  // A new view: move focus to its heading, as a page load would, so a screen reader hears where it is.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    requestAnimationFrame(() => (main.current?.querySelector<HTMLElement>('h1') ?? main.current)?.focus({ preventScroll: false }));
  }, [route.section, route.id]);

  const logout = async () => {
    await post('api/logout').catch(() => undefined);
    await readSession();
  };
  const skip = (e: Event) => {
    e.preventDefault();
    main.current?.focus();
  };

  return html`
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/incidents">labwatch</a>
      <nav aria-label="Sections">
        <ul>
          ${SECTIONS.map(([s, name]) => html`<li><a href=${`#/${s}`} aria-current=${route.section === s ? 'page' : undefined}>${name}</a></li>`)}
        </ul>
      </nav>
      ${session?.authenticated && !session.open
        ? html`<div class="who"><span>${session.name}</span> <button type="button" class="link" onClick=${logout}>Log out</button></div>`
        : null}
    </header>
    ${session?.banner ? html`<p class="banner" role="note">${session.banner}</p>` : null}
    <main id="main" tabindex="-1" ref=${main}>
      ${error
        ? html`<h1 tabindex="-1">labwatch</h1><${Problem} text=${error} /><button type="button" onClick=${readSession}>Try again</button>`
        : !session
          ? html`<p class="muted" role="status">Loading…</p>`
          : session.loginRequired
            ? html`<${Login} onDone=${readSession} />`
            : html`<${View} route=${route} session=${session} />`}
    </main>
  `;
}

// Asked for at once, not after the first render: the first screen waits on it.
prefetch('api/session');
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading…" shown before this script ran
render(html`<${App} />`, root);
