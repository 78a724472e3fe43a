/**
 * The command line: `labwatch run | check | version | …`. Output meant for people goes to stdout;
 * the daemon's logs go to stderr as JSON lines.
 *
 * Only commander is imported here: each command loads its own module when it runs (`lazy`), so
 * `--help`, `version` and `mcp` do not pay for the daemon, fastify, BullMQ and every connector.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * An action whose module is imported when the command runs. The import stays a literal
 * `import('./cli/x.ts')` at each call site so that the build rewrites it to `./cli/x.js`.
 */
function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => unknown>) {
  return async (...args: A): Promise<void> => {
    await (await load())(...args);
  };
}

const program = new Command()
  .name('labwatch')
  .description('AI-assisted monitoring for homelabs: alerts in, one clear report out.')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError();

program
  .command('run')
  .description('run the daemon: webhook intake, incidents, queues, notifications')
  .option('-c, --config <file>', 'YAML config file (default: $LABWATCH_CONFIG, else built-in defaults)')
  .addOption(new Option('--role <role>', "what this process does when several share a Redis (overrides the config's role:)").choices(['all', 'collector', 'worker']))
  .option('--host <name>', "the name this node's observations carry (overrides the config's host:; default the machine's hostname)")
  .action(lazy(async () => (await import('./cli/run.ts')).run));

program
  .command('check')
  .description('validate the config and probe Redis, every notification channel and API; exit 1 listing every problem')
  .option('-c, --config <file>', 'YAML config file (default: $LABWATCH_CONFIG, else built-in defaults)')
  .action(lazy(async () => (await import('./cli/check.ts')).check));

const rules = program.command('rules').description('check and test rule files');
rules
  .command('validate')
  .argument('[dir]', 'a rule file or a folder of *.yaml (default: rules.dir from the config, else the shipped rules)')
  .option('-c, --config <file>', 'YAML config file')
  .description('load every rule, type-check its expressions; exit 1 listing each problem with file and line')
  .action(lazy(async () => (await import('./cli/watch.ts')).rulesValidate));
rules
  .command('test')
  .argument('<files...>', 'rule test files (*.test.yaml)')
  .description('run rule unit tests: given observations, expect these anomalies (like promtool test rules)')
  .action(lazy(async () => (await import('./cli/watch.ts')).rulesTest));

program
  .command('notify')
  .description('notification channels')
  .command('test')
  .option('-c, --config <file>', 'YAML config file')
  .option('--channel <name>', 'a channel configured under notify: (default: every configured channel)')
  .description('send a test message through the real notifiers; print success or the exact failure; exit 1 on failure')
  .action(lazy(async () => (await import('./cli/notify.ts')).notifyTest));

const tools = program.command('tools').description("labwatch's read-only diagnostic tools (the ones Claude uses)");
tools
  .command('list')
  .option('-c, --config <file>', 'YAML config file')
  .option('--json', 'as JSON, with annotations')
  .description('list the tools')
  .action(lazy(async () => (await import('./cli/tools.ts')).toolsList));
tools
  .command('call')
  .argument('<name>', 'tool name, e.g. smart_drive_health')
  .argument('[json]', "arguments as JSON, e.g. '{\"drive\":\"disk:WD-123\"}'")
  .option('-c, --config <file>', 'YAML config file')
  .option('-y, --yes', 'run a tool that changes something without asking (only tools enabled in config exist)')
  .description('run one tool and print its result; exit 1 if it failed (audited, caller cli)')
  .action(lazy(async () => (await import('./cli/tools.ts')).toolsCall));

const incidents = program.command('incidents').description("labwatch's incidents: list, read, acknowledge, snooze, resolve (reads Redis; actions audited, caller cli)");
incidents
  .command('list')
  .option('-c, --config <file>', 'YAML config file')
  .option('--state <state>', 'firing, resolved or all', 'firing')
  .option('--severity <list>', 'only these severities, e.g. critical or critical,warning')
  .option('--host <host>', 'only incidents on this host')
  .option('--json', 'the rows as JSON (the shape GET /api/incidents answers)')
  .description('list incidents: firing first, by severity (id, severity, status, age, host, who is on it, title)')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsList));
incidents
  .command('show')
  .argument('<id>', 'incident id, e.g. inc-0123456789-mwv0a5ue')
  .option('-c, --config <file>', 'YAML config file')
  .option('--json', 'as JSON: the incident, who is on it, its action log and latest report')
  .description('one incident: its alerts, who acknowledged or snoozed it, the report as sent, and what people did')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsShow));
incidents
  .command('ack')
  .argument('<id>', 'incident id')
  .option('-c, --config <file>', 'YAML config file')
  .description('acknowledge: you are on it, reminders stop, everyone sees who')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsAck));
incidents
  .command('snooze')
  .argument('<id>', 'incident id')
  .argument('<duration>', 'e.g. 30m, 24h, 7d (1 minute to 30 days)')
  .option('-c, --config <file>', 'YAML config file')
  .description('no reminders or update messages for a while (an escalation or the resolution still goes out)')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsSnooze));
incidents
  .command('unsnooze')
  .argument('<id>', 'incident id')
  .option('-c, --config <file>', 'YAML config file')
  .description('end a snooze now')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsUnsnooze));
incidents
  .command('resolve')
  .argument('<id>', 'incident id')
  .option('-c, --config <file>', 'YAML config file')
  .description('resolve by hand (an alert whose source will never resolve it); the running daemon reports the resolution')
  .action(lazy(async () => (await import('./cli/incidents.ts')).incidentsResolve));

const iac = program.command('iac').description('infrastructure as code against the live Proxmox cluster (the iac_drift and iac_generate tools)');
iac
  .command('drift')
  .argument('<path>', 'a Terraform or Ansible file or folder (any path you name; a model is limited to proxmox.iac.paths)')
  .option('-c, --config <file>', 'YAML config file')
  .option('--guest <vmid|name>', 'only this guest')
  .option('--json', 'the comparison as JSON (counts and each guest with its fields)')
  .description('compare the code with the cluster, per guest (field, code, live); exit 1 when anything drifts, 0 in sync, 2 when it could not compare')
  .action(lazy(async () => (await import('./cli/iac.ts')).iacDrift));
iac
  .command('generate')
  .option('-c, --config <file>', 'YAML config file')
  .option('--guest <vmid>', 'one guest')
  .option('--all', 'every guest (templates excluded)')
  .option('--provider <bpg|telmate>', 'the Terraform provider', 'bpg')
  .option('--out <file>', 'write the code there (default: stdout, the check on stderr)')
  .description('write Terraform (with import blocks) from the live config, checked: parses, terraform fmt when installed, zero drift when re-read; exit 1 if a check failed')
  .action(lazy(async () => (await import('./cli/iac.ts')).iacGenerate));

program
  .command('ask')
  .argument('<question>', 'e.g. "what is wrong with tank?"')
  .option('-c, --config <file>', 'YAML config file')
  .description('ask Claude about the lab; it answers with the read-only tools (each call shown as it happens)')
  .action(lazy(async () => (await import('./cli/ask.ts')).askCommand));

program
  .command('audit')
  .option('-c, --config <file>', 'YAML config file')
  .option('--incident <id>', 'only calls made while triaging this incident')
  .option('-n, --count <n>', 'how many recent calls', '50')
  .option('-f, --follow', 'keep printing new calls')
  .description('show the audit trail of tool calls (caller, tool, outcome, time, size, arguments)')
  .action(lazy(async () => (await import('./cli/tools.ts')).auditShow));

program
  .command('mcp')
  .option('-c, --config <file>', 'YAML config file')
  .description('serve the tools over MCP on stdin/stdout, for Claude Desktop or Claude Code')
  .action(lazy(async () => (await import('./cli/mcp.ts')).mcpStdio));

program
  .command('observe')
  .argument('<collector>', 'the system to read now, by its config name (an unknown name lists the choices)')
  .option('-c, --config <file>', 'YAML config file')
  .option('--json', 'print observations and rule results as JSON')
  .description('read one system now and show what labwatch sees and which rules hold (stores and sends nothing)')
  .action(lazy(async () => (await import('./cli/watch.ts')).observe));

program
  .command('demo')
  .option('-c, --config <file>', 'YAML config file: its channels get the reports too (default: print them only)')
  .description('see labwatch work in a minute: a real failing drive, degraded pool and alert replayed through the real daemon (needs Redis; no root, disks or API key)')
  .action(lazy(async () => (await import('./cli/demo.ts')).demo));

program
  .command('install')
  .option('--systemd', 'as a systemd service: user labwatch, /etc/labwatch, the unit pointing at this node and checkout')
  .option('--dry-run', 'print every step, change nothing')
  .option('--root <dir>', 'write the files under this folder instead of / and run no command (for packaging and tests)')
  .addOption(new Option('--sys-admin <when>', 'grant CAP_SYS_ADMIN (NVMe SMART, zpool events): auto when NVMe drives or /dev/zfs exist').choices(['auto', 'yes', 'no']).default('auto'))
  .description('install labwatch as a system service (run as root from a built checkout); never overwrites an existing config')
  .action(lazy(async () => (await import('./cli/install.ts')).install));

program
  .command('version')
  .description('print the labwatch version')
  .action(() => {
    process.stdout.write(`labwatch ${pkg.version} (node ${process.version})\n`);
  });

await program.parseAsync(process.argv);
