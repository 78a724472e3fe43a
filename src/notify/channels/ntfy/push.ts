/**
 * The ntfy-shaped message: a title, a markdown body within ntfy's size limit, a priority on
 * ntfy's 1–5 scale, emoji tags, a click target and at most three actions: the report's page, then
 * the message's Acknowledge / Snooze buttons (ntfy `http` actions, POSTed when tapped), then its
 * links; the links that do not fit are handed on to go into the body. Header sizes are the
 * sender's business (send.ts): the title here is whole.
 */
import type { Message, MessageAction } from '../../notifier.ts';
import { digestHeadlines } from '../../digest.ts';
import { escapeMarkdown, pageOf, redact, subjectOf, truncateUtf8, type RenderOptions } from '../../render.ts';
import type { Report } from '../../../triage/report.ts';

export interface RenderedPush {
  /** whole, however long: the sender cuts it to fit a header and puts the rest in the body */
  title: string;
  body: string;
  /** ntfy priority 1–5. */
  priority: number;
  tags: string[];
  click?: string;
  /** the body is markdown (ntfy's Markdown: yes) */
  markdown?: boolean;
  /** at most 3 (ntfy's limit): "view" opens a page, "http" POSTs to `url` (`confirm` is its GET-safe page, for a body line) */
  actions?: PushAction[];
  /** links that did not fit among the actions: lines at the end of the body */
  more?: { label: string; url: string }[];
}

export type PushAction = { action: 'view'; label: string; url: string } | { action: 'http'; label: string; url: string; confirm: string };

/** ntfy shows at most three action buttons. */
export const NTFY_MAX_ACTIONS = 3;

/** ntfy refuses bodies over 4,096 bytes unless the server has attachments enabled. */
export const NTFY_BODY_LIMIT_BYTES = 4096;

const PRIORITY = { critical: 5, warning: 4, info: 3 } as const;
const TAG = { critical: 'rotating_light', warning: 'warning', info: 'information_source' } as const;

/**
 * A report as an ntfy message: markdown (rendered by ntfy's apps), at most three actions, and a
 * body cut to ntfy's limit; a cut body ends with a link to the incident's page when it is known.
 * `publicUrl` (or options carrying it and the secrets to scrub) as for messageFor.
 */
export function renderPush(r: Report, opts?: string | RenderOptions): RenderedPush {
  const o = typeof opts === 'string' ? { publicUrl: opts } : (opts ?? {});
  const clean = redact(r, o.secrets);
  return pushOfReport(clean, pageOf(clean, o.publicUrl));
}

/** The push for any message: a report's, or the digest's few lines at low priority. */
export function pushOf(m: Message): RenderedPush {
  if (m.report) return pushOfReport(m.report, m.page, m.actions);
  const lines = m.digest ? digestHeadlines(m.digest) : [m.text];
  return { title: m.subject, body: truncateUtf8(lines.join('\n'), NTFY_BODY_LIMIT_BYTES), priority: 2, tags: ['newspaper'] };
}

function pushOfReport(r: Report, page?: string, buttons: MessageAction[] = []): RenderedPush {
  const md = escapeMarkdown;
  const resolved = r.kind === 'resolved';
  const lines: string[] = [md(r.summary)];
  if (r.changes.length && r.kind !== 'opened') lines.push('', ...r.changes.map((c) => `- ${md(c)}`));
  if (!resolved && r.actions.length) lines.push('', '**What to do**', ...r.actions.slice(0, 3).map((a, i) => `${i + 1}. ${md(a.text)}`));
  lines.push('', `_incident ${r.incidentId} · rev ${r.revision}_`); // our ids are [a-z0-9-]: nothing to escape
  const more = page ? `\n\n… [the whole report](${page})` : '\n… (truncated)';
  const runbook = r.links.find((l) => l.title === 'Runbook')?.url;
  const click = page ?? runbook ?? r.links[0]?.url;
  const all: PushAction[] = [
    ...(page ? [{ action: 'view' as const, label: 'Open report', url: page }] : []),
    ...(resolved ? [] : buttons.map((b) => ({ action: 'http' as const, label: b.label, url: b.url, confirm: b.confirm }))),
    ...(runbook ? [{ action: 'view' as const, label: 'Runbook', url: runbook }] : []),
    ...r.links.filter((l) => l.title !== 'Runbook').map((l) => ({ action: 'view' as const, label: l.title, url: l.url })),
  ];
  const actions = all.slice(0, NTFY_MAX_ACTIONS);
  // A link that finds no button is a line of the body (a GET-safe page for a button that acts).
  const extra = all.slice(NTFY_MAX_ACTIONS).map((a) => ({ label: a.label, url: a.action === 'http' ? a.confirm : a.url }));
  return {
    title: subjectOf(r, Infinity),
    body: truncateUtf8(lines.join('\n'), NTFY_BODY_LIMIT_BYTES, more),
    priority: resolved ? 2 : PRIORITY[r.severity],
    tags: [resolved ? 'white_check_mark' : TAG[r.severity], ...new Set(r.alerts.map((a) => a.name))].slice(0, 5),
    markdown: true,
    ...(actions.length ? { actions } : {}),
    ...(extra.length ? { more: extra } : {}),
    ...(click ? { click } : {}),
  };
}
