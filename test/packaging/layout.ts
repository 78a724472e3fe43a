/**
 * The runtime image's files, laid out in a folder without Docker: each stage the runtime stage
 * copies from is played in its own folder (its context COPYs from the checkout, then the npm steps
 * its RUN lines name, in order), then the runtime stage's COPY lines are applied into the app
 * folder. Only what those lines name ends up there: no src/, no test/, no dev dependency.
 *
 * Docker's npm steps are played as: `npm ci` (all dependencies) → the checkout's node_modules,
 * linked; `npm run build` → run in the stage's folder; `npm prune --omit=dev` / `npm ci --omit=dev`
 * → a production-only node_modules made by `npm ci --omit=dev --ignore-scripts` from package.json
 * and package-lock.json (cached per lock file under the temp dir; linked, not copied).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { ignoredByDockerignore, type Copy, type Stage } from './dockerfile.ts';

export interface ImageLayout {
  /** the folder standing for the runtime stage's WORKDIR */
  app: string;
  /** what was done, one line a step, for failure messages */
  log: string[];
}

function sh(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: '' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
}

/** node_modules as `npm ci --omit=dev` makes it from the checkout's package.json and lock file. */
export function productionModules(repo: string): string {
  const files = ['package.json', 'package-lock.json'];
  const key = createHash('sha256');
  for (const f of files) key.update(readFileSync(join(repo, f)));
  key.update(process.version);
  const dir = join(tmpdir(), `labwatch-prod-modules-${key.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return join(dir, 'node_modules');
  const staging = mkdtempSync(`${dir}.tmp-`);
  for (const f of files) cpSync(join(repo, f), join(staging, f));
  sh('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], staging);
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run made it meanwhile
  }
  return join(dir, 'node_modules');
}

/** One COPY source onto `dest` with Docker's rules: a folder's contents into dest; a file into dest/ or as dest. */
function copyOne(src: string, dest: string, several: boolean): void {
  const into = dest.endsWith('/') || several;
  const st = lstatSync(src);
  if (st.isSymbolicLink()) {
    // node_modules standing for a stage's install: linked where the image has a copy.
    const target = into ? join(dest, basename(src)) : dest.replace(/\/$/, '');
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { recursive: true, force: true });
    symlinkSync(readlinkSync(src), target);
  } else if (st.isDirectory()) {
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  } else {
    const target = into ? join(dest, basename(src)) : dest;
    mkdirSync(dirname(target), { recursive: true });
    cpSync(src, target);
  }
}

/** Where `path` (absolute in a stage) sits in that stage's folder; it must be under the stage's WORKDIR. */
function within(stageDir: string, workdir: string, path: string, copy: Copy, what: string): string {
  const rel = posix.relative(workdir, path);
  if (rel.startsWith('..') || posix.isAbsolute(rel))
    throw new Error(`Dockerfile line ${copy.line}: ${what} ${path} is outside WORKDIR ${workdir}; the layout test places files relative to it`);
  const out = rel === '' ? stageDir : join(stageDir, rel);
  return path.endsWith('/') ? `${out}/` : out;
}

/** The npm steps a RUN line takes, in order (apt-get and the rest do not touch the app's files). */
function npmSteps(command: string): ('ci' | 'build' | 'production')[] {
  return command.split(/&&|;|\|\|/).flatMap((part) => {
    const c = part.trim().replace(/\s+/g, ' ');
    if (/^npm (ci|prune)\b.*--omit[= ]dev/.test(c) || /^npm prune --production/.test(c)) return ['production' as const];
    if (/^npm ci\b/.test(c)) return ['ci' as const];
    if (/^npm run build\b/.test(c)) return ['build' as const];
    return [];
  });
}

/**
 * Lays out `stages`' runtime image (the last stage) under `root`, with the checkout `repo` as the
 * build context and `dockerignore` (the .dockerignore's text) keeping files out of it.
 */
export function layOutImage(stages: Stage[], repo: string, root: string, dockerignore: string): ImageLayout {
  const log: string[] = [];
  const built = new Map<Stage, string>();

  const fromContext = (copy: Copy, src: string): string => {
    if (posix.isAbsolute(src) || posix.normalize(src).startsWith('..')) throw new Error(`Dockerfile line ${copy.line}: ${src} is outside the build context`);
    if (ignoredByDockerignore(dockerignore, src)) throw new Error(`Dockerfile line ${copy.line}: COPY ${src}, but .dockerignore keeps it out of the build context`);
    const path = join(repo, src);
    if (!existsSync(path)) throw new Error(`Dockerfile line ${copy.line}: COPY ${src}: no such file in the checkout`);
    return path;
  };

  const play = (stage: Stage, dir: string, sourceOf: (copy: Copy, src: string) => string): void => {
    for (const step of stage.steps) {
      if (step.kind === 'copy') {
        const { copy } = step;
        for (const src of copy.sources) {
          const from = sourceOf(copy, src);
          copyOne(from, within(dir, stage.workdir, copy.dest, copy, 'destination'), copy.sources.length > 1);
          log.push(`line ${copy.line}: ${copy.from ? `--from=${copy.from} ` : ''}${src} → ${copy.dest}`);
        }
        continue;
      }
      for (const npm of npmSteps(step.command)) {
        const modules = join(dir, 'node_modules');
        if (npm === 'build') {
          sh('npm', ['run', 'build', '--silent'], dir);
        } else {
          // Only ever a link made here: never follow it into the checkout's node_modules.
          const there = lstatSync(modules, { throwIfNoEntry: false });
          if (there && !there.isSymbolicLink()) throw new Error(`${modules} is not the link this test made`);
          if (there) unlinkSync(modules);
          symlinkSync(npm === 'ci' ? join(repo, 'node_modules') : productionModules(repo), modules);
        }
        log.push(`line ${step.line}: npm ${npm}`);
      }
    }
  };

  const stageFiles = (name: string, copy: Copy): { stage: Stage; dir: string } => {
    const stage = stages.find((s) => s.name === name) ?? stages[Number(name)];
    if (!stage || stage === stages.at(-1)) throw new Error(`Dockerfile line ${copy.line}: --from=${name} names no earlier stage (an image's files cannot be laid out here)`);
    let dir = built.get(stage);
    if (!dir) {
      dir = join(root, `stage-${stage.name ?? name}`);
      mkdirSync(dir, { recursive: true });
      play(stage, dir, (c, src) => {
        if (c.from) throw new Error(`Dockerfile line ${c.line}: a stage copying from another stage is not played by this test`);
        return fromContext(c, src);
      });
      built.set(stage, dir);
    }
    return { stage, dir };
  };

  const app = join(root, 'app');
  mkdirSync(app, { recursive: true });
  play(stages.at(-1)!, app, (copy, src) => {
    if (!copy.from) return fromContext(copy, src);
    const { stage, dir } = stageFiles(copy.from, copy);
    // COPY --from reads a path in the other stage's file system: relative ones start at its root.
    const path = within(dir, stage.workdir, posix.resolve('/', src), copy, 'source');
    if (!existsSync(path)) throw new Error(`Dockerfile line ${copy.line}: COPY --from=${copy.from} ${src}: the stage has no such file`);
    return path.replace(/\/$/, '');
  });
  return { app, log };
}
