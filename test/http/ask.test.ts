/**
 * The dashboard's ask box against the real daemon: the real SDK talks to a scripted model on
 * loopback, the tools are labwatch's own, and the stream is read as a browser would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { waitFor } from '../helpers/wait.ts';

let api: ScriptedAnthropic;
let lab: Lab;

before(async () => {
  api = await new ScriptedAnthropic().start();
  lab = await startLab({ anthropic: { base_url: api.url, max_turns: 3 }, channels: [] });
});
after(async () => {
  await lab.stop();
  await api.stop();
});

const auth = { Authorization: `Bearer ${SECRETS.httpToken}` };

function postAsk(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/api/ask`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

interface Sse {
  event: string;
  data: Record<string, unknown>;
}

function events(text: string): Sse[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => ({ event: /^event: (.*)$/m.exec(b)![1]!, data: JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as Record<string, unknown> }));
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${lab.url}${path}`, { headers: auth });
  assert.equal(res.status, 200, path);
  return (await res.json()) as Record<string, unknown>;
}

test('the answer streams: each tool call as it starts and ends, then the answer, then what it cost', async () => {
  api.script({ toolUse: [{ name: 'incidents_list', input: {} }] }, { text: 'Nothing is firing: the lab is quiet.' });
  const res = await postAsk(lab.url, { question: 'is anything on fire?' });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const got = events(await res.text());
  assert.deepEqual(got.map((e) => e.event), ['tool', 'tool-done', 'answer', 'done']);
  assert.deepEqual(got[0]!.data, { n: 1, name: 'incidents_list', input: {} });
  assert.equal(got[1]!.data.outcome, 'no_data');
  assert.ok((got[1]!.data.bytes as number) > 0);
  assert.deepEqual(got[2]!.data, { text: 'Nothing is firing: the lab is quiet.' });
  const done = got[3]!.data;
  // The scripted API's usage: 1000 in and 100 out per turn, the cached prefix written once and read once.
  const p = lab.config.anthropic.prices;
  const usd = Math.round(((2000 * p.input + 200 * p.output + 900 * p.cache_write + 900 * p.cache_read) / 1e6) * 1e6) / 1e6;
  assert.deepEqual({ ...done, conversation: typeof done.conversation }, { conversation: 'string', turns: 2, calls: 1, tokens: { input: 2000, output: 200 }, usd });
  assert.ok(usd > 0);

  // The tool result went back to the model as untrusted data, and the audit names the dashboard.
  assert.match(JSON.stringify(api.requests[1]!.body.messages[2]), /untrusted-data source=\\"tool:incidents_list\\"/);
  const audited = readFileSync(lab.config.audit.file!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { caller: string; tool: string });
  assert.deepEqual(audited.filter((a) => a.caller === 'dashboard').map((a) => a.tool), ['incidents_list']);

  // Kept: listed with its cost, readable with its tool calls, and counted in today's spend.
  const list = (await getJson('/api/conversations')).conversations as { id: string; question: string; usd: number }[];
  assert.deepEqual(list.map((c) => [c.id, c.question, c.usd]), [[done.conversation, 'is anything on fire?', usd]]);
  const one = await getJson(`/api/conversations/${done.conversation as string}`);
  assert.deepEqual((one.turns as { answer: string; calls: { name: string; outcome: string }[] }[]).map((t) => [t.answer, t.calls.map((c) => `${c.name}:${c.outcome}`)]), [
    ['Nothing is firing: the lab is quiet.', ['incidents_list:no_data']],
  ]);
  assert.deepEqual(await lab.daemon.reports.spentOn(new Date()), { usd, investigations: 0, asks: 1 });
});

test('a follow-up sends the earlier question and answer, and joins the conversation', async () => {
  api.script({ text: 'No incident is open.' });
  const first = events(await (await postAsk(lab.url, { question: 'any open incidents?' })).text()).at(-1)!;
  assert.equal(first.event, 'done');
  api.script({ text: 'Then there is nothing to acknowledge.' });
  const second = events(await (await postAsk(lab.url, { question: 'so nothing to acknowledge?', conversation: first.data.conversation })).text()).at(-1)!;
  assert.equal(second.data.conversation, first.data.conversation);
  assert.deepEqual(api.requests[0]!.body.messages, [
    { role: 'user', content: 'any open incidents?' },
    { role: 'assistant', content: 'No incident is open.' },
    { role: 'user', content: 'so nothing to acknowledge?' },
  ]);
  const one = await getJson(`/api/conversations/${first.data.conversation as string}`);
  assert.deepEqual((one.turns as { question: string }[]).map((t) => t.question), ['any open incidents?', 'so nothing to acknowledge?']);
});

test('a question that is empty or too long is refused before the model is asked', async () => {
  api.script();
  for (const question of ['', 'x'.repeat(4001)]) {
    const res = await postAsk(lab.url, { question });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /^question: /);
  }
  const unknown = await postAsk(lab.url, { question: 'more?', conversation: 'conv-zzzzzz-00000000' });
  assert.equal(unknown.status, 404);
  assert.equal(api.requests.length, 0);
});

test('three questions at a time; a fourth is told to wait, and closing the page frees its place', async () => {
  api.script({ hang: true }, { hang: true }, { hang: true });
  const pages = [new AbortController(), new AbortController(), new AbortController()];
  const streams = pages.map((c, i) => postAsk(lab.url, { question: `slow question ${i}?` }, c.signal));
  await Promise.all(streams); // the headers came: each is streaming
  await waitFor('the three questions to reach the model', () => api.requests.length === 3);
  const fourth = await postAsk(lab.url, { question: 'and a fourth?' });
  assert.equal(fourth.status, 429);
  assert.match(((await fourth.json()) as { hint: string }).hint, /wait for one of them to finish/);
  for (const c of pages) c.abort();
  api.script({ text: 'Answered.' });
  const answered = await waitFor('a place to free up', async () => {
    const res = await postAsk(lab.url, { question: 'now?' });
    return res.status === 200 ? events(await res.text()) : (await res.body?.cancel(), null);
  });
  assert.deepEqual(answered.map((e) => e.event), ['answer', 'done']);
});

test('each tool call shows while the model is still working on the answer', { timeout: 15_000 }, async () => {
  api.script({ toolUse: [{ name: 'incidents_list', input: { status: 'all' } }] }, { hang: true });
  const page = new AbortController();
  const res = await postAsk(lab.url, { question: 'what happened this week?' }, page.signal);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: tool-done')) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended early: ${text}`);
    text += new TextDecoder().decode(value);
  }
  assert.deepEqual(events(text).map((e) => [e.event, e.data.name]), [['tool', 'incidents_list'], ['tool-done', 'incidents_list']]);
  await waitFor('the model to be asked again, with the result', () => api.requests.length === 2);
  const before = (await lab.daemon.reports.spentOn(new Date())).usd;
  page.abort();
  // The first model turn was paid for: the question is kept, unfinished, with its cost.
  const kept = await waitFor('the unfinished turn', async () => {
    const list = (await getJson('/api/conversations')).conversations as { question: string; id: string; usd: number }[];
    return list.find((c) => c.question === 'what happened this week?');
  });
  assert.ok(kept.usd > 0);
  const turn = ((await getJson(`/api/conversations/${kept.id}`)).turns as { answer: string }[])[0]!;
  assert.equal(turn.answer, '(no answer: stopped: the page was closed)');
  assert.ok((await lab.daemon.reports.spentOn(new Date())).usd > before, "the day's spend counts it");
});

test('without a model the ask box says what to configure', async () => {
  const quiet = await startLab({ channels: [] });
  try {
    const res = await postAsk(quiet.url, { question: 'anything?' });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: string; hint: string };
    assert.match(body.error, /^no model is configured/);
    assert.equal(body.hint, 'set anthropic.api_key_file or anthropic.base_url');
  } finally {
    await quiet.stop();
  }
});
