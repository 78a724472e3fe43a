/** The dashboard's conversations as Redis keeps them, and the day's AI spend that /api/status shows. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { alertsToAnomalies, parseAlertmanagerPayload } from '../../src/connectors/alertmanager/webhook.ts';
import { mergeAnomalies } from '../../src/incidents/merge.ts';
import { ConversationStore, type Turn } from '../../src/triage/conversations.ts';
import { deterministicReport } from '../../src/triage/deterministic.ts';
import { ReportStore } from '../../src/triage/reports.ts';
import { TEST_REDIS_URL } from '../helpers/lab.ts';
import { FIRING_AM021 } from '../helpers/payloads.ts';

const redis = new Redis(TEST_REDIS_URL);
const prefix = `lwtest-conv-${randomBytes(4).toString('hex')}`;
const DAY = 86_400;

after(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const turn = (question: string, answer: string, usd: number, at = new Date()): Turn => ({
  at: at.toISOString(),
  question,
  answer,
  calls: [{ name: 'incidents_list', input: {}, outcome: 'no_data', durationMs: 3, bytes: 40 }],
  tokens: { input: 1000, output: 100, cacheWrite: 0, cacheRead: 0 },
  usd,
});

test('a follow-up joins its conversation; the list shows each conversation once, newest first, with its first question and total cost', async () => {
  const store = new ConversationStore(redis, `${prefix}-a`, 30 * DAY);
  const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000);
  const first = await store.append(undefined, 'alice', turn('is anything on fire?', 'No incident is firing.', 0.0123, at(3)));
  assert.deepEqual(first.turns, 1);
  const again = await store.append(first.id, 'bob', turn('and yesterday?', 'One disk warning, resolved.', 0.0077, at(2)));
  assert.deepEqual(again, { id: first.id, turns: 2 });
  const other = await store.append(undefined, 'bob', turn('how full is tank?', 'tank is 71% full.', 0.002, at(1)));

  const list = await store.recent();
  assert.deepEqual(list.map((c) => [c.id, c.question, c.by, c.turns, c.usd]), [
    [other.id, 'how full is tank?', 'bob', 1, 0.002],
    [first.id, 'is anything on fire?', 'alice', 2, 0.02],
  ]);
  const got = await store.get(first.id);
  assert.deepEqual(got?.turnList.map((t) => [t.question, t.answer, t.usd, t.calls[0]?.name]), [
    ['is anything on fire?', 'No incident is firing.', 0.0123, 'incidents_list'],
    ['and yesterday?', 'One disk warning, resolved.', 0.0077, 'incidents_list'],
  ]);
  assert.equal(await store.get('conv-zzzzzz-00000000'), null);
});

test('a conversation is kept for incidents.retention after its last turn', async () => {
  const store = new ConversationStore(redis, `${prefix}-b`, 7 * DAY);
  const { id } = await store.append(undefined, 'alice', turn('anything?', 'no', 0));
  const ttl = await redis.ttl(`${prefix}-b:conversation:${id}`);
  assert.ok(ttl > 7 * DAY - 60 && ttl <= 7 * DAY, `ttl ${ttl}`);
});

test("the day's spend adds the dashboard's questions and triage's investigations", async () => {
  const p = `${prefix}-c`;
  const store = new ConversationStore(redis, p, 30 * DAY);
  const reports = new ReportStore(redis, p, 30 * DAY);
  const now = new Date();
  assert.deepEqual(await reports.spentOn(now), { usd: 0, investigations: 0, asks: 0 });

  await store.append(undefined, 'alice', turn('is anything on fire?', 'No.', 0.01, now));
  const [anomaly] = alertsToAnomalies(parseAlertmanagerPayload(JSON.parse(FIRING_AM021)));
  const incident = mergeAnomalies(null, [anomaly!], now.toISOString())!.incident;
  const triage = { model: 'claude-sonnet-5-5', tokens: { input: 5000, output: 800, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.0275 };
  await reports.saveReport({ ...deterministicReport(incident), producer: 'ai', triage });
  // A report made without the model costs nothing and is not an AI investigation.
  await reports.saveReport({ ...deterministicReport(incident), revision: incident.revision + 1 });

  assert.deepEqual(await reports.spentOn(now), { usd: 0.0375, investigations: 1, asks: 1 });
  assert.deepEqual(await reports.spentOn(new Date(now.getTime() - DAY * 1000)), { usd: 0, investigations: 0, asks: 0 }, 'yesterday is another day');
});
