/**
 * A real browser for tests: Debian's chromium driven by playwright-core (never a browser
 * download). Without /usr/bin/chromium a test is skipped with the reason, except in CI
 * (process.env.CI), where a missing browser is a failure. Screenshots go to a folder outside the
 * checkout (LABWATCH_ARTIFACTS, default /tmp/labwatch-artifacts), kept as CI artefacts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LABWATCH_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's chromium, headless, without anything that reaches the network by itself. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS = process.env.LABWATCH_ARTIFACTS ?? '/tmp/labwatch-artifacts';

/** Why browser tests cannot run here (node:test's `skip` reason), or false. Throws in CI: there the browser must be present. */
export function browserMissing(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
  if (process.env.CI) throw new Error(`${why} (CI must run them)`);
  return why;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (cookies, storage) at the given size and colour scheme. */
  context(opts?: { width?: number; height?: number; dark?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches chromium; playwright gives every launch a fresh temporary profile (user-data dir) and removes it on close. */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  return {
    browser,
    context: ({ width = 1280, height = 900, dark = false } = {}) =>
      browser.newContext({ viewport: { width, height }, colorScheme: dark ? 'dark' : 'light', deviceScaleFactor: 1, reducedMotion: 'reduce' }),
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Saves a full-page screenshot as <ARTIFACTS>/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
