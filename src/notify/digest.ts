/**
 * The digest: one message per period with everything that did not need a person at once —
 * incidents opened, escalated, still open and resolved since the last digest, each with its
 * one-line cause — and a health overview of everything labwatch watches (every drive, every
 * pool), with trend arrows. The period is keyed by its end, so it is built and sent once.
 */
import type { Incident } from '../incidents/types.ts';
import type { Latest } from '../rules/observation.ts';
import type { Digest, DigestLine, Message } from './notifier.ts';
import { escapeHtml, escapeMarkdown, redact, type RenderOptions } from './render.ts';
import { formatTime } from '../util/time.ts';

export type { Digest, DigestLine };

const line = (i: Incident): DigestLine => ({
  id: i.id,
  severity: i.severity,
  title: i.title,
  host: i.host,
  since: i.since,
  ...(i.resolvedAt ? { resolvedAt: i.resolvedAt } : {}),
});

/** Sorts incidents into the digest's sections for the period (from, to]. */
export function buildDigest(incidents: Incident[], health: Latest[], from: Date, to: Date): Digest {
  const within = (t: string | undefined) => t !== undefined && Date.parse(t) > from.getTime() && Date.parse(t) <= to.getTime();
  const announced = incidents.filter((i) => i.revision > 0);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    opened: announced.filter((i) => within(i.openedAt)).map(line),
    escalated: announced.filter((i) => !within(i.openedAt) && within(i.updatedAt) && i.changes.some((c) => c.includes('escalated'))).map(line),
    stillOpen: announced.filter((i) => i.status === 'firing' && !within(i.openedAt)).map(line),
    resolved: announced.filter((i) => i.status === 'resolved' && within(i.resolvedAt)).map(line),
    health,
  };
}

export function isEmpty(d: Digest): boolean {
  return !d.opened.length && !d.escalated.length && !d.stillOpen.length && !d.resolved.length;
}

function counts(d: Digest): string {
  const parts = [
    d.opened.length && `${d.opened.length} opened`,
    d.escalated.length && `${d.escalated.length} escalated`,
    d.stillOpen.length && `${d.stillOpen.length} still open`,
    d.resolved.length && `${d.resolved.length} resolved`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing happened';
}

const SECTIONS: [keyof Pick<Digest, 'opened' | 'escalated' | 'stillOpen' | 'resolved'>, string][] = [
  ['opened', 'Opened'],
  ['escalated', 'Escalated'],
  ['stillOpen', 'Still open'],
  ['resolved', 'Resolved'],
];

/** A subject as the overview names it: with its host when another host has one of the same name (two nodes' rpool). */
function namer(health: readonly Latest[]): (h: Latest) => string {
  const count = new Map<string, number>();
  for (const h of health) count.set(h.subject, (count.get(h.subject) ?? 0) + 1);
  return (h) => ((count.get(h.subject) ?? 0) > 1 ? `${h.subject} (${h.host})` : h.subject);
}

function describe(l: DigestLine, section: string): string {
  const when = section === 'resolved' && l.resolvedAt ? `resolved ${formatTime(l.resolvedAt)}` : `since ${formatTime(l.since)}`;
  return `[${l.severity.toUpperCase()}] ${l.host ? `${l.host}: ` : ''}${l.title} (${when})`;
}

/** The digest as every channel sends it; secrets in incident titles and summaries are scrubbed. */
export function digestMessage(digest: Digest, opts: RenderOptions = {}): Message {
  const d = redact(digest, opts.secrets);
  const day = d.to.slice(0, 10);
  const subject = `[DIGEST] ${day}: ${counts(d)}`;
  const text: string[] = [`labwatch digest for ${formatTime(d.from)} to ${formatTime(d.to)}`, '', counts(d) + '.'];
  const html: string[] = [`<h2 style="font-size:18px;margin:4px 0">labwatch digest, ${escapeHtml(day)}</h2><p>${escapeHtml(counts(d))}.</p>`];
  for (const [key, title] of SECTIONS) {
    if (!d[key].length) continue;
    text.push('', title, ...d[key].map((l) => `  • ${describe(l, key)}`));
    html.push(`<h3 style="font-size:15px;margin:18px 0 6px">${title}</h3><ul>${d[key].map((l) => `<li>${escapeHtml(describe(l, key))}</li>`).join('')}</ul>`);
  }
  if (d.health.length) {
    const name = namer(d.health);
    const byKind = new Map<string, Latest[]>();
    for (const h of d.health) byKind.set(h.kind, [...(byKind.get(h.kind) ?? []), h]);
    text.push('', 'Health overview');
    html.push('<h3 style="font-size:15px;margin:18px 0 6px">Health overview</h3>');
    for (const [kind, items] of byKind) {
      text.push(`  ${kind}s`, ...items.map((h) => `    ${h.arrow ?? ' '} ${name(h)}: ${h.summary}`));
      html.push(
        `<p style="margin:8px 0 2px"><b>${escapeHtml(kind)}s</b></p><ul>${items.map((h) => `<li>${h.arrow ? `${h.arrow} ` : ''}<code>${escapeHtml(name(h))}</code>: ${escapeHtml(h.summary)}</li>`).join('')}</ul>`,
      );
    }
  }
  text.push('', '--', 'labwatch digest · arrows compare with about a day earlier');
  return {
    key: `digest-${d.to.replace(/[^0-9]/g, '').slice(0, 12)}`,
    subject,
    text: text.join('\n') + '\n',
    html:
      '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"></head>' +
      `<body style="font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1d2939;max-width:640px;margin:0 auto;padding:12px">${html.join('')}</body></html>`,
    markdown: digestMarkdown(d),
    level: 'info',
    digest: d,
    headers: { 'X-Labwatch-Digest': d.to },
  };
}

/** The digest in a few lines, for channels that show little (a push): the counts and each section's titles. */
export function digestHeadlines(d: Digest): string[] {
  const lines = [counts(d) + '.'];
  for (const [key, title] of SECTIONS) if (d[key].length) lines.push(`${title}: ${d[key].map((l) => l.title).join('; ')}`);
  if (d.health.length) lines.push(`Watching ${d.health.length} subjects.`);
  return lines;
}

function digestMarkdown(d: Digest): string {
  const md = escapeMarkdown;
  const out: string[] = [md(`${formatTime(d.from)} to ${formatTime(d.to)}: ${counts(d)}.`)];
  for (const [key, title] of SECTIONS) if (d[key].length) out.push('', `**${title}**`, ...d[key].map((l) => `- ${md(describe(l, key))}`));
  if (d.health.length) {
    out.push('', '**Health overview**');
    const name = namer(d.health);
    for (const h of d.health) out.push(`- ${h.arrow ? `${md(h.arrow)} ` : ''}${md(name(h))}: ${md(h.summary)}`);
  }
  return out.join('\n') + '\n';
}
