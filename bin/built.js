// Is dist/ (from `npm run build`) the sources as they are now? scripts/build.js writes into
// dist/.built the mtime of every file under src/ as it was when the build started; a file whose
// mtime differs, a new file or a missing one means the build is stale. Equal rather than "newer":
// it holds with 1 s timestamps, a file written during the build, and a checkout of older files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Every file under src/ and its mtime (ms), keyed by its path from the checkout. Plain strings and one stat each: this runs on every start. */
export function sourceTimes(dir = 'src', into = {}) {
  for (const e of readdirSync(`${root}${dir}`, { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) sourceTimes(path, into);
    else into[path] = statSync(`${root}${path}`).mtimeMs;
  }
  return into;
}

/** `{ fresh: true }`, or why not: no finished build, or the first source that differs from it. */
export function buildState() {
  let built;
  try {
    built = JSON.parse(readFileSync(`${root}dist/.built`, 'utf8')).sources;
  } catch {
    return { fresh: false, built: false };
  }
  // No sources next to the build: nothing it could be older than.
  if (!statSync(`${root}src`, { throwIfNoEntry: false })) return { fresh: true };
  const now = sourceTimes();
  const changed = Object.keys(now).find((p) => built[p] !== now[p]) ?? Object.keys(built).find((p) => !(p in now));
  return changed === undefined ? { fresh: true } : { fresh: false, built: true, changed };
}
