/**
 * `labwatch install --systemd`: makes this checkout (or installed package folder) a system service
 * on a Debian/Ubuntu machine. As root it creates the system user `labwatch` (group disk), puts the
 * example config in /etc/labwatch (an existing config is never touched), writes the unit with
 * ExecStart pointing at this node and this bin/labwatch.js, adds the CAP_SYS_ADMIN drop-in where
 * NVMe drives or ZFS are present, reloads systemd and says what to do next.
 *
 * `--dry-run` prints every step and does none. `--root DIR` writes the files under DIR instead of /
 * and runs no command (useradd, chown, udevadm, systemctl are printed as "would run"); /sys and /dev
 * are looked at under DIR too. Commands run with execFile, fixed argument lists and a timeout.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../exec.ts';

const USER = 'labwatch';
const CONFIG = '/etc/labwatch/labwatch.yaml';
const UNIT = '/etc/systemd/system/labwatch.service';
const DROP_IN = '/etc/systemd/system/labwatch.service.d/sys-admin.conf';
const UDEV_RULE = '/etc/udev/rules.d/60-labwatch-nvme.rules';
/** The NVMe controllers (/dev/nvme0 …) are root:root 0600; smartctl opens them read-only. */
const UDEV_TEXT =
  '# labwatch: smartctl reads NVMe health through the controller node (/dev/nvmeN), which the kernel\n' +
  '# makes root-only. Read access for the disk group (which can already read and write every disk);\n' +
  '# the admin commands still need CAP_SYS_ADMIN (labwatch.service.d/sys-admin.conf).\n' +
  'SUBSYSTEM=="nvme", KERNEL=="nvme[0-9]*", GROUP="disk", MODE="0640"\n';

export interface InstallOptions {
  systemd?: boolean;
  dryRun?: boolean;
  root?: string;
  sysAdmin?: 'auto' | 'yes' | 'no';
}

/**
 * One step: a file change done here, or a command (run only on the real root, never in a dry run).
 * Ownership goes through chown(1) too, so that a dry run and --root print it as the command it is.
 */
type Step = { say: string; act: () => void } | { command: [string, ...string[]] } | { note: string };

class InstallError extends Error {}

/** The package folder: two levels above this module, in src/cli/ or dist/cli/ alike. */
const PACKAGE = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

export async function install(opts: InstallOptions): Promise<void> {
  try {
    await installSystemd(opts);
  } catch (e) {
    process.stderr.write(`labwatch install: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function installSystemd(opts: InstallOptions): Promise<void> {
  if (!opts.systemd) throw new InstallError('say what to install: --systemd (a system service; the only kind so far)');
  const root = opts.root ?? '/';
  const real = root === '/';
  const dry = opts.dryRun === true;
  const at = (p: string) => join(root, p);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say(dry ? 'labwatch install --systemd --dry-run: nothing is changed; the steps would be:' : `labwatch install --systemd${real ? '' : ` into ${root}`}:`);
  if (real) preconditions(dry, say);
  const node = process.execPath;
  const bin = join(PACKAGE, 'bin', 'labwatch.js');
  // Into a staging root (--root) the unit is not started here: what would stop it is said, not refused.
  const problem = (why: string) => {
    if (real) throw new InstallError(why);
    say(`  note: ${why}`);
  };
  for (const p of [node, bin, PACKAGE]) {
    if (!/^\/[A-Za-z0-9/._+@-]*$/.test(p))
      problem(`${p}: a path systemd would need quoting for (spaces, %, $ or quotes); move the checkout to a plain path such as /opt/labwatch`);
    // the unit's ProtectHome= and PrivateTmp= hide these from the service: it would not start
    const hidden = /^\/(home|root|run\/user|tmp|var\/tmp)(\/|$)/.exec(p);
    if (hidden)
      problem(`${p} is under /${hidden[1]}, which the service cannot see (ProtectHome=, PrivateTmp=); use a node from /usr (Node.js 20 or later: Debian 13's nodejs, or NodeSource's packages on Debian 12) and a checkout in /opt/labwatch`);
  }
  if (!existsSync(join(PACKAGE, 'dist', 'cli.js')))
    say(`  note: ${PACKAGE} has no build (dist/cli.js); the service would compile the sources at every start. Run npm run build there first.`);

  const sysAdmin = wantSysAdmin(opts.sysAdmin ?? 'auto', at);
  const steps: Step[] = [];

  // The user: a system account in the disk group (smartctl opens /dev/sd* through it).
  if (real && (await userExists())) {
    if (!(await inGroup('disk'))) steps.push({ command: ['usermod', '--append', '--groups', 'disk', USER] });
    else steps.push({ note: `user ${USER} exists (in group disk); kept` });
  } else {
    steps.push({ command: ['useradd', '--system', '--user-group', '--groups', 'disk', '--home-dir', '/var/lib/labwatch', '--no-create-home', '--shell', '/usr/sbin/nologin', USER] });
  }

  // The state directory systemd gives the service (StateDirectory=): made now so that `check` run as
  // the user before the first start finds the audit file's folder.
  steps.push({ say: `create ${at('/var/lib/labwatch')} (mode 0750)`, act: () => mkdirSync(at('/var/lib/labwatch'), { recursive: true, mode: 0o750 }) });
  steps.push({ command: ['chown', `${USER}:${USER}`, '/var/lib/labwatch'] });

  // The config: root's, readable by the labwatch group; an existing one is the person's and stays.
  steps.push({ say: `create ${at('/etc/labwatch')} (mode 0750)`, act: () => mkdirSync(at('/etc/labwatch'), { recursive: true, mode: 0o750 }) });
  steps.push({ command: ['chown', `root:${USER}`, '/etc/labwatch'] });
  if (existsSync(at(CONFIG))) {
    steps.push({ note: `${at(CONFIG)} exists; kept as it is (the example is ${join(PACKAGE, 'config', 'labwatch.example.yaml')})` });
  } else {
    steps.push({
      say: `write ${at(CONFIG)} (the example config, mode 0640)`,
      act: () => {
        copyFileSync(join(PACKAGE, 'config', 'labwatch.example.yaml'), at(CONFIG));
        chmodSync(at(CONFIG), 0o640);
      },
    });
    steps.push({ command: ['chown', `root:${USER}`, CONFIG] });
  }

  // The unit, pointing at this node and this checkout; the drop-in and udev rule where needed.
  const unit = unitText(readFileSync(join(PACKAGE, 'systemd', 'labwatch.service'), 'utf8'), node, bin);
  steps.push({ say: `write ${at(UNIT)} (ExecStart=${node} ${bin} run --config ${CONFIG})`, act: () => writeFile(at(UNIT), unit, 0o644) });
  if (sysAdmin.grant) {
    const dropIn = readFileSync(join(PACKAGE, 'systemd', 'labwatch.service.d', 'sys-admin.conf'), 'utf8');
    steps.push({ say: `write ${at(DROP_IN)} (CAP_SYS_ADMIN: ${sysAdmin.why})`, act: () => writeFile(at(DROP_IN), dropIn, 0o644) });
  } else if (opts.sysAdmin === 'no' && existsSync(at(DROP_IN))) {
    steps.push({ say: `remove ${at(DROP_IN)} (--sys-admin no)`, act: () => rmSync(at(DROP_IN)) });
  } else {
    steps.push({ note: `no CAP_SYS_ADMIN drop-in: ${sysAdmin.why}` });
  }
  if (sysAdmin.nvme) {
    steps.push({ say: `write ${at(UDEV_RULE)} (NVMe controllers readable by group disk)`, act: () => writeFile(at(UDEV_RULE), UDEV_TEXT, 0o644) });
    steps.push({ command: ['udevadm', 'control', '--reload'] }, { command: ['udevadm', 'trigger', '--action=change', '--subsystem-match=nvme'] });
  }
  steps.push({ command: ['systemctl', 'daemon-reload'] });

  for (const step of steps) await perform(step, { dry, real, say });

  say('');
  say(dry ? 'Then:' : 'Next:');
  say(`  1. edit ${CONFIG} (channels, API keys as *_file beside it, mode 0640 group ${USER})`);
  // STATE_DIRECTORY as the unit sets it, so check tests the audit file the service will write
  say(`  2. sudo -u ${USER} STATE_DIRECTORY=/var/lib/labwatch ${node} ${bin} check --config ${CONFIG}`);
  say('  3. systemctl enable --now labwatch');
  say('  4. journalctl -u labwatch -f');
}

async function perform(step: Step, ctx: { dry: boolean; real: boolean; say: (l: string) => void }): Promise<void> {
  if ('note' in step) return ctx.say(`  ${step.note}`);
  if ('act' in step) {
    if (ctx.dry) return ctx.say(`  would ${step.say}`);
    try {
      step.act();
    } catch (e) {
      throw new InstallError(`could not ${step.say}: ${(e as Error).message}`);
    }
    return ctx.say(`  ${step.say}`);
  }
  const [file, ...args] = step.command;
  const shown = step.command.join(' ');
  if (ctx.dry || !ctx.real) return ctx.say(`  would run: ${shown}`);
  ctx.say(`  run: ${shown}`);
  const r = await run(file, args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new InstallError(`${shown} exited ${r.code ?? 'on a signal'}: ${r.stderr.trim().split('\n')[0] || 'no message'}; fix that and run labwatch install again (it skips what is done)`);
}

/** Root, Linux, systemd: said plainly before anything changes (a dry run only warns). */
function preconditions(dry: boolean, say: (l: string) => void): void {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`this is ${process.platform}; the systemd service is for Linux`);
  if (!existsSync('/run/systemd/system'))
    problems.push('systemd is not running on this machine (/run/systemd/system is missing): run labwatch in Docker or under your init system instead (README "Running as a service")');
  if (process.getuid?.() !== 0) problems.push('this needs root (it creates a user and writes /etc): run it with sudo, or add --dry-run to see the steps');
  if (problems.length === 0) return;
  if (!dry) throw new InstallError(problems.join('; '));
  for (const p of problems) say(`  warning: ${p}`);
}

/** The shipped unit with this install's node, bin and folder; every other line as shipped. */
export function unitText(shipped: string, node: string, bin: string): string {
  const dir = bin.replace(/\/bin\/labwatch\.js$/, '');
  const lines = shipped.split('\n').map((l) => {
    if (l.startsWith('ExecStart=')) return `ExecStart=${node} ${bin} run --config ${CONFIG}`;
    if (l.startsWith('WorkingDirectory=')) return `WorkingDirectory=${dir}`;
    if (l.startsWith('Documentation=')) return `Documentation=file://${dir}/README.md`;
    return l;
  });
  return `# Written by labwatch install --systemd from ${dir}/systemd/labwatch.service\n${lines.join('\n')}`;
}

/** Whether to grant CAP_SYS_ADMIN: NVMe controllers under /sys/class/nvme, or /dev/zfs. */
function wantSysAdmin(mode: 'auto' | 'yes' | 'no', at: (p: string) => string): { grant: boolean; nvme: boolean; why: string } {
  const nvme = existsSync(at('/sys/class/nvme')) && readdirSync(at('/sys/class/nvme')).length > 0;
  const zfs = existsSync(at('/dev/zfs'));
  const found = [nvme ? 'NVMe drives' : '', zfs ? 'ZFS (zpool events)' : ''].filter(Boolean).join(' and ');
  if (mode === 'yes') return { grant: true, nvme, why: '--sys-admin yes' };
  if (mode === 'no') return { grant: false, nvme: false, why: '--sys-admin no; NVMe SMART and zpool events will fail with "permission denied"' };
  if (found) return { grant: true, nvme, why: `found ${found}` };
  return { grant: false, nvme: false, why: `no NVMe drive (${at('/sys/class/nvme')}) and no ${at('/dev/zfs')} here; --sys-admin yes adds it anyway` };
}

function writeFile(path: string, text: string, mode: number): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

async function userExists(): Promise<boolean> {
  return (await run('getent', ['passwd', USER], { timeoutMs: 10_000 })).code === 0;
}

async function inGroup(group: string): Promise<boolean> {
  const r = await run('id', ['-nG', USER], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.trim().split(/\s+/).includes(group);
}
