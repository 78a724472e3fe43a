/**
 * The dashboard as a person sees it, in Debian's chromium: the real daemon (real Redis, the token
 * configured, so the page asks to log in), incidents from real Alertmanager payloads, drives and a
 * pool replayed from real smartctl and zpool output through test/bin's stand-ins. Screenshots at
 * desktop and phone width, light and dark, go to LABWATCH_ARTIFACTS (outside the checkout).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildState } from '../../bin/built.js';
import { ScriptedAnthropic } from '../helpers/anthropic.ts';
import { browserMissing, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { fixturePath, sharedFixture } from '../helpers/fixtures.ts';
import { SECRETS, startLab, type Lab } from '../helpers/lab.ts';
import { FIRING_AM021, stormAlert, stormBody } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'test/bin');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The healthy WD Red's real smartctl document with attribute 5 (reallocated sectors) set to n: a drive degrading over days. */
const wdRed = readFileSync(join(sharedFixture('smartctl'), 'sata-hdd-healthy-wd-red-wd20efrx.json'), 'utf8');
function withReallocated(n: number): string {
  const doc = JSON.parse(wdRed) as { ata_smart_attributes: { table: { id: number; raw: { value: number; string: string } }[] } };
  doc.ata_smart_attributes.table.find((a) => a.id === 5)!.raw = { value: n, string: String(n) };
  return JSON.stringify(doc);
}

/**
 * Alert `i` of the storm in a group of its own (the real payload's group key, suffixed): its own
 * incident, not an update of the fixture's.
 */
function newIncident(i: number): string {
  const body = JSON.parse(stormBody([stormAlert(i)])) as { groupKey: string };
  return JSON.stringify({ ...body, groupKey: `${body.groupKey}:${i}` });
}

/** The page's own failures and any request leaving labwatch: both must stay empty. */
function watchPage(page: Page, base: string): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('request', (r) => void (!r.url().startsWith(base) && !r.url().startsWith('data:') && problems.push(`external request: ${r.url()}`)));
  return problems;
}

async function logIn(page: Page, url: string, name = 'Ada'): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Token').fill(SECRETS.httpToken);
  await page.getByLabel(/Your name/).fill(name);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
}

/** axe-core's serious and critical findings on the page as it is (WCAG 2.1 A/AA rules). */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not govern.
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return found;
}

describe('the dashboard in a browser', { skip: browserMissing() }, () => {
  let lab: Lab;
  let browser: TestBrowser;
  let incident: string;

  before(async () => {
    // The page is served from dist/web: build it when it is missing or older than the sources.
    if (!buildState().fresh) {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.js')], { encoding: 'utf8' });
      assert.equal(r.status, 0, `npm run build failed: ${r.stderr}`);
    }
    const smart = mkdtempSync(join(tmpdir(), 'labwatch-smartctl-'));
    const scan = JSON.parse(readFileSync(join(sharedFixture('smartctl'), 'scan-json.json'), 'utf8')) as { devices: { name: string }[] };
    scan.devices = scan.devices.filter((d) => d.name === '/dev/sda');
    writeFileSync(join(smart, 'scan.json'), JSON.stringify(scan));
    writeFileSync(join(smart, 'sda.exit'), '0');
    const zpool = mkdtempSync(join(tmpdir(), 'labwatch-zpool-'));
    copyFileSync(fixturePath('zpool', 'status-degraded-unavail-was-path-cksum-errors.txt'), join(zpool, 'status.txt'));
    copyFileSync(fixturePath('zpool', 'list-p-two-pools-degraded.txt'), join(zpool, 'list.txt'));
    process.env.FAKE_SMARTCTL_DIR = smart;
    process.env.FAKE_ZPOOL_DIR = zpool;
    lab = await startLab({
      channels: ['ntfy'],
      watchYaml: `watch:\n  smart: { enabled: true, schedule: "0 0 1 1 *", smartctl: ${join(BIN, 'smartctl')} }\n  zfs: { enabled: true, schedule: "0 0 1 1 *", zpool: ${join(BIN, 'zpool')} }\n  host: { enabled: true, schedule: "0 0 1 1 *" }`,
    });
    // Three days of readings: the chart has points, and the rising count fires a rule on the drive.
    // (Readings older than a week are dropped from the latest: the days end today.)
    for (const [daysAgo, n] of [[2, 0], [1, 4], [0, 12]] as const) {
      writeFileSync(join(smart, 'sda.json'), withReallocated(n));
      await lab.daemon.watcher.run('smart', { now: new Date(Date.now() - daysAgo * 86_400_000) });
    }
    await lab.daemon.watcher.run('zfs', {});
    await lab.daemon.watcher.run('host', {}); // this machine, read for real: the Lab view's tables
    const posted = await lab.post(FIRING_AM021);
    assert.equal(posted.status, 200, JSON.stringify(posted.json));
    incident = (posted.json.incidents as string[])[0]!;
    await lab.drained();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lab?.stop();
  });

  test('the list shows the incident; opening it shows its report and its timeline', async () => {
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url);
    const row = page.locator(`li[data-id="${incident}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /critical[\s\S]*This is a demo[\s\S]*ni3/);
    await row.getByRole('link', { name: 'This is a demo' }).click();
    await page.getByRole('heading', { name: 'This is a demo', level: 1 }).waitFor();
    const timeline = page.locator('ol.timeline');
    assert.match(await timeline.innerText(), /DemoAlert on ni3 started firing/);
    const report = page.frameLocator('iframe.report');
    await report.getByRole('heading', { name: 'This is a demo' }).waitFor();
    assert.match(await report.locator('body').innerText(), /What to do/);
    assert.deepEqual(problems, []);
  });

  test('a new incident posted while the page is open appears without a reload', async () => {
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url);
    await page.locator('ul.incidents li').first().waitFor();
    await page.locator('.live.on').waitFor();
    const loads = await page.evaluate("performance.getEntriesByType('navigation').length");
    const posted = await lab.post(newIncident(7));
    assert.equal(posted.status, 200);
    await page.getByRole('link', { name: 'NFS mount stale on nfs-client-0007' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate("performance.getEntriesByType('navigation').length"), loads, 'no reload');
    assert.match((await page.locator('#live').textContent()) ?? '', /New incident: NFS mount stale on nfs-client-0007/);
    assert.deepEqual(problems, []);
  });

  test('acknowledging from the page shows who acknowledged it, there and in the list', async () => {
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url, 'Grace');
    const posted = await lab.post(newIncident(8));
    const id = (posted.json.incidents as string[])[0]!;
    await page.goto(`${lab.url}/#/incidents/${id}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('acknowledged by Grace').first().waitFor();
    assert.match(await page.locator('ol.timeline').innerText(), /acknowledged/i);
    await page.getByRole('link', { name: '← Incidents' }).click();
    await page.locator(`li[data-id="${id}"]`).getByText('acknowledged by Grace').waitFor();
    const attention = await waitFor('the acknowledgement in the API', async () => {
      const r = await fetch(`${lab.url}/api/incidents/${id}`, { headers: { Authorization: `Bearer ${SECRETS.httpToken}` } });
      return ((await r.json()) as { incident: { attention: { acknowledged?: { by: string } } } }).incident.attention.acknowledged;
    });
    assert.equal(attention.by, 'Grace');
    // A day on, the reminder sweep passes it by (its reminder report is never made).
    await lab.drained();
    await lab.daemon.reminders!.sweep(new Date(Date.now() + 25 * 3_600_000));
    const revision = await lab.daemon.store.reportedRevision(id, 1);
    assert.ok(revision >= 1);
    assert.equal(await lab.daemon.reports.getReport(id, revision, 'again1'), null, 'no reminder for the acknowledged incident');
    assert.notEqual(await lab.daemon.reports.getReport(incident, await lab.daemon.store.reportedRevision(incident, 1), 'again1'), null, 'the one nobody acknowledged is reminded of');
    assert.deepEqual(problems, []);
  });

  test('a drive shows its readings and a temperature chart with points; a pool shows its state and devices', async () => {
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url);
    await page.getByRole('link', { name: 'Drives' }).click();
    const drive = page.locator('article.drive').first();
    await drive.waitFor();
    assert.match(await drive.innerText(), /WDC WD20EFRX-68EUZN0[\s\S]*reallocated sectors\s*12/);
    const plot = drive.locator('.plot[data-points="3"] canvas').first();
    await plot.waitFor();
    assert.ok(((await plot.boundingBox())?.width ?? 0) > 150, 'the chart is drawn at a readable width');
    await page.getByRole('link', { name: 'Pools' }).click();
    const pool = page.locator('article.pool').first();
    await pool.waitFor();
    assert.match(await pool.innerText(), /DEGRADED/);
    assert.match(await pool.innerText(), /UNAVAIL/);
    assert.deepEqual(problems, []);
  });

  test("the Lab view lists what the host collector read on this machine: its filesystems and interfaces", async () => {
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url);
    await page.getByRole('link', { name: 'Lab', exact: true }).click();
    await page.getByRole('heading', { name: /^filesystem/ }).waitFor();
    await page.getByRole('heading', { name: /^interface/ }).waitFor();
    // A reading without a summary line still says something: its first values.
    assert.match(await page.locator('section', { has: page.getByRole('heading', { name: /^filesystem/ }) }).innerText(), /fs:\/[\s\S]*used pct/);
    assert.deepEqual(problems, []);
  });

  test('axe finds no serious or critical problem on the list and the incident page', async () => {
    const page = await (await browser.context()).newPage();
    await logIn(page, lab.url);
    await page.locator('ul.incidents li').first().waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'the incidents list');
    await page.goto(`${lab.url}/#/incidents/${incident}`);
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'an incident');
  });

  test('every action is reachable by keyboard: Tab reaches the first incident and Enter opens it', async () => {
    const page = await (await browser.context()).newPage();
    await logIn(page, lab.url);
    await page.locator('ul.incidents li').first().waitFor();
    const first = page.locator('ul.incidents a.title').first();
    const name = await first.innerText();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await first.evaluate((el) => el === el.ownerDocument.activeElement)) break;
    }
    assert.ok(await first.evaluate((el) => el === el.ownerDocument.activeElement), 'Tab reaches the first incident link');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  });

  test('screenshots at desktop and phone width, light and dark', async () => {
    const saved: string[] = [];
    for (const [width, height] of [[1280, 900], [390, 844]] as const)
      for (const dark of [false, true]) {
        const page = await (await browser.context({ width, height, dark })).newPage();
        await logIn(page, lab.url);
        const tag = `${width}-${dark ? 'dark' : 'light'}`;
        await page.locator('ul.incidents li').first().waitFor();
        saved.push(await screenshot(page, `dashboard-incidents-${tag}`));
        await page.goto(`${lab.url}/#/incidents/${incident}`);
        await page.frameLocator('iframe.report').getByRole('heading', { name: 'This is a demo' }).waitFor();
        // A frame below the fold is painted only once it has been on screen.
        await page.locator('iframe.report').scrollIntoViewIfNeeded();
        saved.push(await screenshot(page, `dashboard-incident-${tag}`));
        await page.goto(`${lab.url}/#/drives`);
        await page.locator('.plot canvas').first().waitFor();
        saved.push(await screenshot(page, `dashboard-drives-${tag}`));
        await page.goto(`${lab.url}/#/pools`);
        await page.locator('article.pool').first().waitFor();
        saved.push(await screenshot(page, `dashboard-pools-${tag}`));
        for (const [view, ready] of [['lab', 'section h2'], ['status', 'table'], ['ask', 'textarea']] as const) {
          await page.goto(`${lab.url}/#/${view}`);
          await page.locator(`main ${ready}`).first().waitFor();
          saved.push(await screenshot(page, `dashboard-${view}-${tag}`));
        }
        // Nothing wider than the screen: a phone never scrolls sideways.
        assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), `no horizontal scroll at ${width}px`);
        await page.context().close();
      }
    assert.equal(saved.length, 28);
  });
});

describe('the ask box in a browser', { skip: browserMissing() }, () => {
  let api: ScriptedAnthropic;
  let lab: Lab;
  let browser: TestBrowser;
  before(async () => {
    api = await new ScriptedAnthropic().start();
    lab = await startLab({ anthropic: { base_url: api.url, max_turns: 3 }, channels: [] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lab?.stop();
    await api?.stop();
  });

  test("the answer streams in: the scripted model's tool call, then the answer as text, its cost, and the conversation kept", async () => {
    // The answer carries markup: the page must show it as text, never as HTML.
    api.script({ toolUse: [{ name: 'incidents_list', input: {} }] }, { text: 'Nothing is firing: the lab is quiet. <img src=x onerror=alert(1)>' });
    const page = await (await browser.context()).newPage();
    const problems = watchPage(page, lab.url);
    await logIn(page, lab.url);
    await page.getByRole('link', { name: 'Ask' }).click();
    await page.getByLabel('Question').fill('is anything on fire?');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    const calls = page.getByRole('list', { name: 'Tool calls' });
    await calls.getByText('incidents_list').waitFor();
    await page.locator('.answer').getByText('Nothing is firing: the lab is quiet. <img src=x onerror=alert(1)>').waitFor();
    assert.equal(await page.locator('.answer img').count(), 0, 'the answer is text');
    assert.match(await calls.innerText(), /incidents_list[\s\S]*no_data/);
    assert.match(await page.locator('.turn').innerText(), /1 tool call · 2,000 tokens in, 200 out · \$/);
    await page.getByRole('list').filter({ hasText: 'is anything on fire?' }).getByRole('button', { name: 'is anything on fire?' }).waitFor();
    await screenshot(page, 'dashboard-ask-answered-1280-light');
    assert.deepEqual(problems, []);
  });
});
