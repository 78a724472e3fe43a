/**
 * Where the real captures are. Published ones live once in the shared folder beside the checkout
 * (`../shared/fixtures`, as CI lays it out) and are read there, never copied; the few this project
 * captured itself live in test/fixtures. Each folder's SOURCES.md says where every file came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_FIXTURES = resolve(REPO, '..', 'shared', 'fixtures');
export const OWN_FIXTURES = join(REPO, 'test', 'fixtures');

/** A published capture (or its folder) in ../shared/fixtures. */
export function sharedFixture(...parts: string[]): string {
  const p = join(SHARED_FIXTURES, ...parts);
  if (!existsSync(p)) {
    throw new Error(`shared fixture missing: ${p} (the tests read published captures from ../shared/fixtures beside the checkout, as CI lays it out)`);
  }
  return p;
}

/**
 * A capture by folder and name, wherever it lives: test/fixtures for the project's own, else
 * ../shared/fixtures. One found in both places is a copy, which is refused.
 */
export function fixturePath(...parts: string[]): string {
  const own = join(OWN_FIXTURES, ...parts);
  const shared = join(SHARED_FIXTURES, ...parts);
  const inOwn = existsSync(own);
  if (inOwn && existsSync(shared)) throw new Error(`${own} is a copy of ${shared}: read the shared one in place and delete the copy`);
  if (inOwn) return own;
  if (existsSync(shared)) return shared;
  throw new Error(`fixture missing: neither ${own} (the project's own captures) nor ${shared} (published captures, ../shared/fixtures beside the checkout) exists`);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}
