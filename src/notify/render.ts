/**
 * What every channel shares: a report becomes a subject, plain text, HTML (readable on a phone,
 * no remote images, every value escaped) and markdown. A channel's own shape (ntfy's push, the
 * webhook's JSON) lives in its folder under channels/. Alert text is data: it is escaped, never
 * interpreted. Configured secrets and passwords inside
 * URLs are replaced by [REDACTED] here, once, before anything is formatted: every channel, the
 * digest and the /incidents page get that without code of their own.
 */
import type { Report } from '../triage/report.ts';
import type { Level, Message, MessageAction } from './notifier.ts';
import { formatTime } from '../util/time.ts';
import { scrubDeep } from '../telemetry/log.ts';

/** What rendering needs besides the report; the daemon builds it once from the config. */
export interface RenderOptions {
  /** notify.public_url: messages link to the incident's page */
  publicUrl?: string;
  /** secretValues(config): never rendered, wherever alert text carries them */
  secrets?: readonly string[];
}

/**
 * `value` (a report, a digest) with every string scrubbed: each configured secret and the
 * password of any `scheme://user:pass@host` become [REDACTED]. Done on the values, before
 * escaping, so no escaped or cut form of a secret can slip through.
 */
export function redact<T>(value: T, secrets: readonly string[] = []): T {
  return scrubDeep(value, secrets);
}

const optionsOf = (o?: string | RenderOptions): RenderOptions => (typeof o === 'string' ? { publicUrl: o } : (o ?? {}));

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

const KIND_WORD = { opened: '', updated: ' (updated)', resolved: '', reminder: ' (still open)', flapping: ' (flapping)' } as const;

/** The subject line, cut to `max` characters with "…" (email subjects: 250). */
export function subjectOf(r: Report, max = 250): string {
  const state = r.kind === 'resolved' ? 'RESOLVED' : r.severity.toUpperCase();
  const chars = Array.from(`[${state}] ${r.host ? `${r.host}: ` : ''}${r.title}${KIND_WORD[r.kind]}`.replace(/[\r\n]+/g, ' '));
  return chars.length <= max ? chars.join('') : chars.slice(0, max - 1).join('') + '…';
}

function footer(r: Report): string[] {
  const producer = r.producer !== 'ai' ? 'deterministic report' : r.triage?.local ? `investigated by ${r.triage.model} (local)` : 'investigated by Claude';
  return [`labwatch · incident ${r.incidentId} · revision ${r.revision} · ${producer}`, ...r.notes];
}

function renderText(r: Report, acts: readonly MessageAction[] = []): string {
  const out: string[] = [];
  const head = r.kind === 'resolved' ? 'RESOLVED' : r.severity.toUpperCase();
  out.push(`${head}${r.host ? ` · ${r.host}` : ''} · ${r.title}`);
  out.push(
    r.kind === 'resolved'
      ? `Firing from ${formatTime(r.since)} to ${formatTime(r.resolvedAt ?? r.createdAt)}`
      : `Firing since ${formatTime(r.since)}`,
  );
  out.push('', r.summary);
  // Each opens a page that asks first: mail scanners follow links, and a GET never acts.
  if (acts.length) out.push('', ...acts.map((a) => `${a.label}: ${a.confirm}`));
  if (r.changes.length && r.kind !== 'opened') out.push('', r.kind === 'reminder' ? 'Since the last notice' : 'What changed', ...r.changes.map((c) => `  • ${c}`));
  if (r.facts.length) {
    out.push('', 'What was observed');
    for (const f of r.facts) out.push(...f.text.split('\n').map((l, i) => (i === 0 ? `  • ${l}` : `    ${l}`)));
  }
  if (r.causes.length) {
    out.push('', 'Probable cause (hypotheses)');
    for (const c of r.causes) out.push(`  • ${c.text}${c.confidence ? ` [confidence: ${c.confidence}]` : ''}`);
  }
  if (r.actions.length) {
    out.push('', 'What to do');
    r.actions.forEach((a, i) => out.push(`  ${i + 1}. ${a.text}${a.urgency ? ` [${a.urgency}]` : ''}`));
  }
  if (r.links.length) out.push('', 'Links', ...r.links.map((l) => `  ${l.title}: ${l.url}`));
  out.push('', '--', ...footer(r));
  return out.join('\n') + '\n';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SEVERITY_COLOUR = { critical: '#b42318', warning: '#b54708', info: '#175cd3' } as const;

/** The report as an HTML page (email, /incidents/<id>), secrets scrubbed. */
export function renderHtml(r: Report, opts: RenderOptions = {}): string {
  return htmlOf(redact(r, opts.secrets));
}

function htmlOf(r: Report, acts: readonly MessageAction[] = []): string {
  const e = escapeHtml;
  const colour = r.kind === 'resolved' ? '#067647' : SEVERITY_COLOUR[r.severity];
  const badge = r.kind === 'resolved' ? 'RESOLVED' : r.severity.toUpperCase();
  const section = (title: string, body: string) =>
    `<h3 style="font-size:15px;margin:18px 0 6px">${e(title)}</h3>${body}`;
  const list = (items: string[], ordered = false) =>
    `<${ordered ? 'ol' : 'ul'} style="margin:0;padding-left:20px">${items.map((i) => `<li style="margin:4px 0">${i}</li>`).join('')}</${ordered ? 'ol' : 'ul'}>`;
  const multiline = (s: string) => e(s).replace(/\n/g, '<br>');

  const parts: string[] = [];
  parts.push(
    `<div style="border-left:4px solid ${colour};padding:4px 12px">` +
      `<div style="font-size:12px;font-weight:bold;color:${colour}">${e(badge)}${r.host ? ` · ${e(r.host)}` : ''}</div>` +
      `<h2 style="font-size:18px;margin:4px 0">${e(r.title)}</h2>` +
      `<div style="font-size:12px;color:#555">${e(
        r.kind === 'resolved'
          ? `Firing from ${formatTime(r.since)} to ${formatTime(r.resolvedAt ?? r.createdAt)}`
          : `Firing since ${formatTime(r.since)}`,
      )}</div></div>`,
  );
  parts.push(`<p style="margin:14px 0">${multiline(r.summary)}</p>`);
  if (acts.length)
    parts.push(
      `<p style="margin:14px 0">${acts
        .map((a) => `<a href="${e(a.confirm)}" style="display:inline-block;margin:0 8px 8px 0;padding:6px 14px;border:1px solid ${colour};border-radius:4px;color:${colour};text-decoration:none;font-weight:bold">${e(a.label)}</a>`)
        .join('')}</p>`,
    );
  if (r.changes.length && r.kind !== 'opened') parts.push(section(r.kind === 'reminder' ? 'Since the last notice' : 'What changed', list(r.changes.map(e))));
  if (r.facts.length) parts.push(section('What was observed', list(r.facts.map((f) => multiline(f.text)))));
  if (r.causes.length)
    parts.push(
      section(
        'Probable cause (hypotheses)',
        list(r.causes.map((c) => `${e(c.text)}${c.confidence ? ` <i>(confidence: ${e(c.confidence)})</i>` : ''}`)),
      ),
    );
  if (r.actions.length)
    parts.push(
      section('What to do', list(r.actions.map((a) => `${e(a.text)}${a.urgency ? ` <b>[${e(a.urgency)}]</b>` : ''}`), true)),
    );
  if (r.links.length)
    parts.push(section('Links', list(r.links.map((l) => `<a href="${e(l.url)}">${e(l.title)}</a>`))));
  parts.push(`<p style="font-size:11px;color:#777;margin-top:24px">${footer(r).map(e).join('<br>')}</p>`);
  return (
    '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"></head>' +
    `<body style="font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1d2939;max-width:640px;margin:0 auto;padding:12px">${parts.join('')}</body></html>`
  );
}

export function render(r: Report, opts: RenderOptions = {}): Rendered {
  const clean = redact(r, opts.secrets);
  return { subject: subjectOf(clean), text: renderText(clean), html: htmlOf(clean) };
}

/** Cuts a string to at most `limit` UTF-8 bytes without splitting a character, marking the cut. */
export function truncateUtf8(s: string, limit: number, marker = '\n… (truncated)'): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= limit) return s;
  const room = limit - Buffer.byteLength(marker);
  let end = Math.max(0, room);
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return buf.subarray(0, end).toString('utf8') + marker;
}

/**
 * A bare http(s) URL in text, up to a space, quote or angle bracket; trailing sentence
 * punctuation and a closing bracket it did not open are not part of it (as GFM's autolinks).
 * It also ends before `](` or `![`, so no link or image can be smuggled in unescaped.
 */
const BARE_URL = /https?:\/\/[^\s<>"'`]+/g;

function urlEnd(url: string): number {
  const smuggled = url.search(/\]\(|!\[/);
  let end = smuggled >= 0 ? smuggled : url.length;
  for (;;) {
    const last = url[end - 1];
    if (last && '.,;:!?*_~'.includes(last)) end--;
    else if (last && ')]}'.includes(last)) {
      const open = { ')': '(', ']': '[', '}': '{' }[last]!;
      const body = url.slice(0, end);
      if (body.split(open).length >= body.split(last).length) break;
      end--;
    } else break;
  }
  return end;
}

const escapeText = (s: string) => s.replace(/([\\`*_{}[\]()#+\-.!|>~<])/g, '\\$1');

/**
 * Markdown special characters in alert text are escaped: it is data, not formatting (nor an image
 * to fetch). URLs in it are left byte for byte: `prometheus\.lab` or `node\_filesystem` is a
 * broken link in a client that shows the text as it is, and markdown renderers autolink them.
 */
export function escapeMarkdown(s: string): string {
  let out = '';
  let from = 0;
  for (const m of s.matchAll(BARE_URL)) {
    const url = m[0].slice(0, urlEnd(m[0]));
    if (!/^https?:\/\/[^/?#]/.test(url)) continue;
    out += escapeText(s.slice(from, m.index)) + url;
    from = m.index + url.length;
  }
  return out + escapeText(s.slice(from));
}

/** A URL as a markdown autolink: `<…>` cannot hold spaces or '>', so those are percent-encoded. */
export function markdownLink(url: string): string {
  return `<${url.replace(/>/g, '%3E').replace(/\s/g, '%20')}>`;
}

/** The incident's page in labwatch, when notify.public_url is known. */
export function pageOf(r: Report, publicUrl?: string): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}/incidents/${r.incidentId}` : undefined;
}

/** The report as markdown (Gotify, Apprise), alert text escaped; the subject is the title, not repeated here. */
function renderMarkdown(r: Report, page?: string): string {
  const md = escapeMarkdown;
  const out: string[] = [];
  out.push(
    md(r.kind === 'resolved' ? `Firing from ${formatTime(r.since)} to ${formatTime(r.resolvedAt ?? r.createdAt)}` : `Firing since ${formatTime(r.since)}`),
    '',
    md(r.summary),
  );
  const section = (title: string, lines: string[]) => out.push('', `**${title}**`, ...lines);
  if (r.changes.length && r.kind !== 'opened') section(r.kind === 'reminder' ? 'Since the last notice' : 'What changed', r.changes.map((c) => `- ${md(c)}`));
  if (r.facts.length) section('What was observed', r.facts.map((f) => `- ${f.text.split('\n').map(md).join('  \n  ')}`));
  if (r.causes.length) section('Probable cause (hypotheses)', r.causes.map((c) => `- ${md(c.text)}${c.confidence ? ` _(confidence: ${c.confidence})_` : ''}`));
  if (r.actions.length) section('What to do', r.actions.map((a, i) => `${i + 1}. ${md(a.text)}${a.urgency ? ` **\\[${a.urgency}\\]**` : ''}`));
  const links = [...(page ? [{ title: 'The whole report', url: page }] : []), ...r.links];
  if (links.length) section('Links', links.map((l) => `- ${md(l.title)}: ${markdownLink(l.url)}`));
  out.push('', footer(r).map((l) => `_${md(l)}_`).join('  \n'));
  return out.join('\n') + '\n';
}

/** How urgent a report is, on the scale every channel maps from. */
function levelOf(r: Report): Level {
  return r.kind === 'resolved' ? 'resolved' : r.severity;
}

/**
 * A report as every channel is handed it, secrets scrubbed; `publicUrl` links messages to the
 * incident's page. Takes the options (or any object carrying them, like the notify job's deps).
 * `actions` (signed links, made per message) appear in the text and HTML and are carried along.
 */
export function messageFor(report: Report, opts?: string | RenderOptions, actions?: MessageAction[]): Message {
  const o = optionsOf(opts);
  const acts = actions ?? [];
  const r = redact(report, o.secrets);
  const page = pageOf(r, o.publicUrl);
  return {
    key: `${r.incidentId}.r${r.revision}${r.variant ? `.${r.variant}` : ''}`,
    subject: subjectOf(r),
    text: renderText(r, acts),
    html: htmlOf(r, acts),
    markdown: renderMarkdown(r, page),
    level: levelOf(r),
    report: r,
    ...(page ? { page } : {}),
    ...(acts.length ? { actions: acts } : {}),
    thread: { root: r.incidentId, isRoot: r.kind === 'opened' },
    headers: {
      'X-Labwatch-Incident': r.incidentId,
      'X-Labwatch-Revision': String(r.revision),
      'X-Labwatch-Severity': levelOf(r),
    },
  };
}
