/**
 * One scenario through the real daemon path: a lab (real daemon, Redis under a private prefix,
 * loopback SMTP and ntfy) whose collectors run the stand-in smartctl/zpool on the scenario's
 * captures, and whose webhook receives its Alertmanager bodies; then incident → triage → report
 * → delivery, and the delivered messages and rendered reports are scored.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { render } from '../src/notify/render.ts';
import type { Report } from '../src/triage/report.ts';
import { startLab, type LabOptions } from '../test/helpers/lab.ts';
import { readFixture } from '../test/helpers/fixtures.ts';
import { stage, watchYaml, type Scenario } from './scenario.ts';
import { matchFacts, stripRun, type FactResult } from './score.ts';

/** How the model half reaches a model: the Anthropic API with a key, or a local endpoint. */
export interface ModelSetup {
  key?: string;
  baseUrl?: string;
  model?: string;
}

/** polls of each collector per scenario */
const POLLS = 3;

export interface Outcome {
  scenario: Scenario;
  producer: 'deterministic' | 'ai';
  incidents: number;
  /** messages delivered (emails + ntfy pushes) */
  messages: number;
  /** facts named by the scenario, each found or not (empty for a control) */
  facts: FactResult[];
  /** the scored text, after the run's ids and collector errors were stripped */
  text: string;
  tokens: { input: number; output: number };
  costUsd: number;
  latencyMs: number;
  error?: string;
}

export async function runScenario(s: Scenario, model?: ModelSetup): Promise<Outcome> {
  const staged = stage(s);
  const opts: LabOptions = { watchYaml: watchYaml(staged) };
  if (model) {
    opts.anthropic = { ...(model.baseUrl ? { base_url: model.baseUrl } : {}), ...(model.model ? { model: model.model } : {}) };
    // A local endpoint needs no key, as a homelab owner would configure it.
    opts.anthropicKey = model.key ?? false;
  }
  const lab = await startLab(opts);
  const started = Date.now();
  const errors: string[] = [];
  try {
    // The daemon polls on a schedule: replay the same capture POLLS times an hour apart, so rules that
    // want a condition on consecutive polls (`for: 2`) see it as a running daemon would.
    for (let poll = POLLS - 1; poll >= 0; poll--)
      for (const name of [staged.smartctl && 'smart', staged.zpool && 'zfs'].filter((x): x is string => !!x)) {
        const r = await lab.daemon.watcher.run(name, { now: new Date(started - poll * 3_600_000) });
        if (r.error) errors.push(r.error);
        for (const o of r.observations) if (typeof o.values.error === 'string' && o.values.error) errors.push(o.values.error);
      }
    for (const body of s.webhook ?? []) {
      const res = await lab.post(readFixture(...body.split('/')));
      if (res.status >= 300) throw new Error(`webhook ${body} answered ${res.status}: ${JSON.stringify(res.json)}`);
    }
    await lab.drained(model ? 300_000 : 30_000);
    const latencyMs = Date.now() - started;

    const incidents = await lab.daemon.store.listRecent(100);
    const reports: Report[] = [];
    for (const inc of incidents)
      for (let rev = 1; rev <= inc.revision; rev++) {
        const r = await lab.daemon.reports.getReport(inc.id, rev);
        if (r) reports.push(r);
      }
    const parts: string[] = [];
    for (const m of lab.smtp.messages) parts.push(m.parsed.subject ?? '', m.parsed.text ?? '');
    for (const p of lab.ntfy.published) parts.push(String(p.headers.title ?? ''), p.body);
    // The full report as email renders it: a warning is pushed at once but emailed in the digest.
    for (const r of reports) {
      const { subject, text } = render(r);
      parts.push(subject, text);
    }
    const text = stripRun(parts.join('\n'), { now: new Date(), host: hostname(), extra: [lab.prefix, staged.dir] }, errors);
    const tokens = { input: 0, output: 0 };
    let costUsd = 0;
    for (const r of reports) {
      tokens.input += r.triage?.tokens.input ?? 0;
      tokens.output += r.triage?.tokens.output ?? 0;
      costUsd += r.triage?.costUsd ?? 0;
    }
    return {
      scenario: s,
      producer: reports.some((r) => r.producer === 'ai') ? 'ai' : 'deterministic',
      incidents: incidents.length,
      messages: lab.smtp.messages.length + lab.ntfy.published.length,
      facts: s.expect === 'silent' ? [] : matchFacts(s.expect, text, s.reject),
      text,
      tokens,
      costUsd,
      latencyMs,
    };
  } catch (e) {
    const facts = s.expect === 'silent' ? [] : matchFacts(s.expect, '', s.reject).map((f) => ({ ...f, found: false }));
    return { scenario: s, producer: 'deterministic', incidents: 0, messages: 0, facts, text: '', tokens: { input: 0, output: 0 }, costUsd: 0, latencyMs: Date.now() - started, error: (e as Error).message };
  } finally {
    await lab.stop();
    rmSync(staged.dir, { recursive: true, force: true });
  }
}

/** Runs scenarios `parallel` at a time (each in its own lab), keeping their order. */
export async function runAll(list: Scenario[], parallel: number, model?: ModelSetup, onDone?: (o: Outcome) => void): Promise<Outcome[]> {
  const out: Outcome[] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < list.length; i = next++) {
      out[i] = await runScenario(list[i]!, model);
      onDone?.(out[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return out;
}
