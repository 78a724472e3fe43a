/**
 * The Docker image, checked without a Docker engine: its runtime files are laid out from the
 * Dockerfile's COPY lines (test/packaging/layout.ts) and labwatch runs from exactly them, as the
 * container's ENTRYPOINT/CMD start it; the Dockerfile and docker-compose.yml are read for what the
 * host's disks, pools and Redis need. Where `docker info` answers, the image is also built and run.
 * LABWATCH_DOCKERFILE=<file> checks another Dockerfile (e.g. an older one) against the checkout.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { parseDockerfile, type Stage } from './dockerfile.ts';
import { layOutImage, productionModules } from './layout.ts';
import { freePort } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = process.env.LABWATCH_DOCKERFILE ?? join(REPO, 'Dockerfile');
const REDIS_URL = process.env.LABWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const root = mkdtempSync(join(tmpdir(), 'labwatch-image-'));
const prefix = `lwtest-image-${randomBytes(4).toString('hex')}`;

after(async () => {
  rmSync(root, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect().catch(() => {});
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000).catch(() => ['0', []] as [string, string[]]);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length) await redis.del(...keys).catch(() => {});
  redis.disconnect();
});

const runtime = (): Stage => parseDockerfile(readFileSync(DOCKERFILE, 'utf8')).at(-1)!;
const runLines = (s: Stage) => s.steps.flatMap((x) => (x.kind === 'run' ? [x.command] : []));

test('the image installs smartctl and zpool, runs as a non-root user and probes /healthz', () => {
  const image = runtime();
  const installs = runLines(image).filter((c) => /apt-get install/.test(c)).join('\n');
  assert.match(installs, /\bsmartmontools\b/, 'the smart collector needs smartctl (smartmontools) in the image');
  assert.match(installs, /\bzfsutils-linux\b/, 'the zfs collector needs zpool (zfsutils-linux) in the image');
  assert.match(runLines(image).join('\n'), /Components: main contrib/, "zfsutils-linux is in Debian's contrib component: enable it");
  assert.ok(image.user && !/^(root|0)(:|$)/.test(image.user), `the image runs as ${image.user ?? 'root (no USER)'}; it should be a non-root user`);
  assert.ok(image.healthcheck?.some((a) => a.includes('/healthz')), 'a HEALTHCHECK that asks /healthz');
  assert.ok(image.expose.includes('9877'), 'EXPOSE 9877');
  assert.equal(image.env.LABWATCH_LISTEN, '0.0.0.0:9877', 'inside a container labwatch must listen beyond loopback (ENV LABWATCH_LISTEN)');
  assert.deepEqual([...(image.entrypoint ?? []), ...(image.cmd ?? [])].slice(-3), ['run', '--config', '/etc/labwatch/labwatch.yaml']);
});

test('docker-compose.yml keeps Redis append-only and gives labwatch the disks, /dev/zfs and SYS_RAWIO', () => {
  const compose = parse(readFileSync(join(dirname(DOCKERFILE), 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const { redis, labwatch } = compose.services;
  assert.ok(redis && labwatch, 'services redis and labwatch');
  const command = ([] as string[]).concat((redis.command as string | string[]) ?? []).join(' ');
  assert.match(command, /--appendonly yes/, 'Redis holds the queues and the outbox: append-only persistence on');
  assert.ok((redis.volumes as string[]).some((v) => v.endsWith(':/data')), "Redis's /data on a volume");
  assert.ok(redis.healthcheck, 'Redis has a healthcheck for labwatch to wait on');
  assert.deepEqual(labwatch.depends_on, { redis: { condition: 'service_healthy' } });
  assert.match(String((labwatch.environment as Record<string, string>).LABWATCH_REDIS_URL), /^redis:\/\/redis:6379/);
  assert.ok((labwatch.ports as string[]).every((p) => p.startsWith('127.0.0.1:')), 'the port is published on the host loopback only');
  assert.ok((labwatch.volumes as string[]).some((v) => /:\/etc\/labwatch:ro$/.test(v)), 'the config mounted read-only at /etc/labwatch');
  assert.ok((labwatch.devices as string[]).includes('/dev/zfs'), 'zpool needs /dev/zfs');
  assert.ok((labwatch.devices as string[]).some((d) => /^\/dev\/(sd|nvme)/.test(d)), 'an example disk device for smartctl');
  assert.ok((labwatch.cap_add as string[]).includes('SYS_RAWIO'), 'smartctl needs CAP_SYS_RAWIO');
  assert.ok((labwatch.group_add as string[]).includes('disk'), "the disks' group");
  assert.notEqual(labwatch.privileged, true, 'no privileged container');
});

/** `node <entrypoint…> <args>` in `cwd`, as the container starts it. */
function start(image: Stage, app: string, args: string[], env: Record<string, string>) {
  const [bin, ...entry] = image.entrypoint ?? [];
  assert.equal(bin, 'node', 'the ENTRYPOINT runs node');
  const child = spawn(process.execPath, [...entry, ...args], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** its exit code, or a failure naming what it printed when it is still running after `ms` */
  const done = async (what: string, ms: number): Promise<number | null> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(r, ms, 'late')));
    const code = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (code !== 'late') return code;
    child.kill('SIGKILL');
    return assert.fail(`${what} still running after ${ms} ms:\n${stdout.slice(-2000)}\n${stderr.slice(-4000)}`);
  };
  return { child, exited, done, out: () => stdout, err: () => stderr };
}

function healthcheck(image: Stage, listen: string): number | null {
  const [bin, ...args] = image.healthcheck!;
  assert.equal(bin, 'node', 'the HEALTHCHECK runs node (in the exec form)');
  return spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', LABWATCH_LISTEN: listen }, timeout: 10_000 }).status;
}

test('labwatch runs from exactly the files the image holds: no sources, no dev dependencies', { timeout: 90_000 }, async () => {
  const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const image = stages.at(-1)!;
  // Node looks for packages in every parent folder: none of them may offer the checkout's.
  for (let d = root; d !== dirname(d); d = dirname(d)) assert.ok(!existsSync(join(dirname(d), 'node_modules')), `${dirname(d)}/node_modules would leak into the image's run`);
  const ignoreFile = join(dirname(DOCKERFILE), '.dockerignore');
  const { app, log } = layOutImage(stages, REPO, root, existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  const why = `\nthe image's files were laid out as:\n  ${log.join('\n  ')}`;
  for (const dir of ['src', 'test']) assert.ok(!existsSync(join(app, dir)), `the image holds ${dir}/; it needs none of it${why}`);
  // Dev dependencies no production one pulls in (typescript, playwright-core…) stay out of the image.
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const devOnly = Object.keys(pkg.devDependencies).filter((d) => !existsSync(join(productionModules(REPO), d)));
  assert.ok(devOnly.length > 0);
  assert.deepEqual(devOnly.filter((d) => existsSync(join(app, 'node_modules', d))), [], `dev dependencies in the image's node_modules${why}`);
  assert.ok(existsSync(join(app, 'dist/.built')), `the image has no finished build (dist/.built)${why}`);
  assert.ok(existsSync(join(app, 'dist/web/index.html')), `the image has no dashboard bundle (dist/web)${why}`);

  const cfgDir = join(root, 'etc');
  mkdirSync(cfgDir);
  const config = join(cfgDir, 'labwatch.yaml');
  writeFileSync(config, `redis:\n  prefix: ${prefix}\nhttp:\n  listen: "127.0.0.1:0"\n`);
  const port = await freePort();
  const state = join(root, 'state');
  const env: Record<string, string> = {
    ...image.env,
    PATH: process.env.PATH ?? '',
    HOME: join(root, 'home'),
    STATE_DIRECTORY: state,
    // The image's 0.0.0.0:9877, kept on loopback and a free port here; it must win over http.listen.
    LABWATCH_LISTEN: `127.0.0.1:${port}`,
    LABWATCH_REDIS_URL: REDIS_URL,
  };
  const cmd = (image.cmd ?? []).map((a) => (a === '/etc/labwatch/labwatch.yaml' ? config : a));
  const daemon = start(image, app, cmd, env);
  try {
    const running = await Promise.race([
      waitFor('"labwatch is running"', () => daemon.err().includes('"msg":"labwatch is running"'), 30_000),
      daemon.exited.then((code) => assert.fail(`labwatch exited (${code}) before it was running:\n${daemon.err()}${why}`)),
    ]);
    assert.ok(running);
    assert.match(daemon.err(), new RegExp(`"listen":"http://127\\.0\\.0\\.1:${port}"`), 'LABWATCH_LISTEN decides where it listens');
    const url = `http://127.0.0.1:${port}`;

    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(healthcheck(image, env.LABWATCH_LISTEN!), 0, "the image's HEALTHCHECK passes against a running labwatch");

    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200, 'the dashboard is served (503 means dist/web is missing)');
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const script = /src="\/?(assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
    assert.ok(script, 'the dashboard page names its script');
    assert.equal((await fetch(`${url}/${script}`)).status, 200, `${script} is served`);

    // The shipped rules: every rules/*.yaml of the checkout (their tests aside), read from the image's rules/.
    const shipped = readdirSync(join(REPO, 'rules')).filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f)).length;
    daemon.child.kill('SIGHUP');
    const reloaded = await waitFor('"rules reloaded"', () =>
      daemon.err().split('\n').filter((l) => l.includes('"msg":"rules reloaded"')).map((l) => JSON.parse(l) as { rules: number; files: number })[0],
    );
    assert.equal(reloaded.files, shipped, `the image's rules/ holds ${reloaded.files} rule files; the checkout ships ${shipped}`);
    assert.ok(reloaded.rules > 0);
    assert.doesNotMatch(daemon.err(), /ENOENT|cannot read|tsx/, 'no file it needs is missing, and no source is compiled');

    const help = start(image, app, ['--help'], env);
    assert.equal(await help.done('labwatch --help', 15_000), 0, help.err());
    assert.match(help.out(), /^\s+run\b/m);
    assert.match(help.out(), /^\s+demo\b/m);
  } finally {
    daemon.child.kill('SIGTERM');
  }
  assert.equal(await daemon.done('labwatch after SIGTERM', 30_000), 0, `labwatch did not stop cleanly on SIGTERM:\n${daemon.err()}`);
  assert.notEqual(healthcheck(image, env.LABWATCH_LISTEN!), 0, 'the HEALTHCHECK fails once labwatch is gone');

  // `docker run labwatch demo`: the stand-ins and captures under demo/ are in the image too.
  const demo = start(image, app, ['demo'], env);
  assert.equal(await demo.done('labwatch demo', 30_000), 0, `labwatch demo:\n${demo.out()}\n${demo.err()}`);
  assert.match(demo.out(), /^\[CRITICAL\] .*SMART health FAILING/m);
});

const docker = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 15_000 });
const noEngine = docker.status === 0 ? false : `no Docker engine here (\`docker info\`: ${(docker.error?.message ?? docker.stderr.trim().split('\n').at(-1)) || 'failed'}); the layout test above stands in`;

test('docker builds the image, and the container answers /healthz and serves the dashboard', { skip: noEngine, timeout: 900_000 }, async () => {
  const tag = `labwatch-test:${randomBytes(4).toString('hex')}`;
  const build = spawnSync('docker', ['build', '-t', tag, '-f', DOCKERFILE, REPO], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  assert.equal(build.status, 0, `docker build failed:\n${build.stderr.slice(-4000)}`);
  const cfgDir = mkdtempSync(join(tmpdir(), 'labwatch-image-etc-'));
  writeFileSync(join(cfgDir, 'labwatch.yaml'), `redis:\n  prefix: ${prefix}\n`);
  chmodSync(cfgDir, 0o755); // the image's user (node) reads it
  const port = await freePort();
  // Host networking: Redis and the port stay on this machine's loopback.
  const run = spawnSync('docker', ['run', '-d', '--rm', '--network', 'host', '-e', `LABWATCH_LISTEN=127.0.0.1:${port}`, '-e', `LABWATCH_REDIS_URL=${REDIS_URL}`, '-v', `${cfgDir}:/etc/labwatch:ro`, tag], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const id = run.stdout.trim();
  try {
    await waitFor('the container to answer /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 60_000, 250);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script/);
  } finally {
    spawnSync('docker', ['stop', id]);
    spawnSync('docker', ['rmi', '-f', tag]);
    rmSync(cfgDir, { recursive: true, force: true });
  }
});
