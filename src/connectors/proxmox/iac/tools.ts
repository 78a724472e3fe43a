/**
 * The infrastructure-as-code tools over the one ProxmoxReader: `iac_drift` (code against the
 * cluster, per guest) and `iac_generate` (Terraform for existing guests, checked and re-read to
 * show it matches the lab). Both only read the lab. A model chooses the path: only code under
 * proxmox.iac.paths may be read (after symlinks are resolved), so a tool call cannot read
 * anything else on this machine.
 */
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as z from 'zod';
import { apiGuarded as guarded } from '../../api-client.ts';
import { defineTool, failed, noData, ok, READ_ONLY, type ToolResult, type ToolSpec } from '../../../tools/types.ts';
import type { ProxmoxReader } from '../read.ts';
import { compareGuests } from './compare.ts';
import { readLiveGuests } from './live.ts';
import type { DeclaredGuest, GuestDrift } from './model.ts';
import { driftCounts, driftText, summaryLine } from './report.ts';

const NO_PATHS =
  'no code is configured: set proxmox.iac.paths to the folders (or files) of your Terraform and Ansible code, e.g.\n' +
  'proxmox:\n  iac:\n    paths: [/srv/homelab/terraform]\nlabwatch reads code only there';

const guestFilter = z.union([z.number().int().min(1).max(999_999_999), z.string().min(1).max(100)]);
const matches = (d: GuestDrift, guest: number | string) => d.vmid === Number(guest) || d.name === String(guest);

/** The configured roots that exist, as real paths. */
async function roots(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) out.push(...(await realpath(resolve(p)).then((r) => [r], () => [])));
  return out;
}

/** `path` as a real path inside a configured root, or the refusal saying why. */
async function allowedPath(path: string, paths: string[]): Promise<string | ToolResult> {
  const rs = await roots(paths);
  if (rs.length === 0) return failed(`none of proxmox.iac.paths (${paths.join(', ')}) exists on this machine; fix the config`);
  const candidates = isAbsolute(path) ? [path] : rs.map((r) => join(r, path));
  for (const c of candidates) {
    const real = await realpath(c).catch(() => undefined);
    if (!real) continue;
    const inside = rs.some((r) => {
      const rel = relative(r, real);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    });
    if (inside) return real;
    return failed(`${path} is outside proxmox.iac.paths (${paths.join(', ')}): labwatch reads code only there; add its folder to proxmox.iac.paths`);
  }
  return failed(`${path} does not exist${isAbsolute(path) ? '' : ` under ${rs.join(', ')}`}; give a file or folder of Terraform or Ansible code under proxmox.iac.paths (${paths.join(', ')})`);
}

/** Reads every file under the given roots; problems name what could not be read. */
async function readAll(paths: string[], signal?: AbortSignal): Promise<{ guests: DeclaredGuest[]; problems: string[]; files: string[]; templates: string[] }> {
  // the HCL parser (WebAssembly) loads only when code is read, not with every command that lists the tools
  const { readCode } = await import('./code.ts');
  const all = { guests: [] as DeclaredGuest[], problems: [] as string[], files: [] as string[], templates: [] as string[] };
  for (const p of paths) {
    const r = await readCode(p, signal);
    all.guests.push(...r.guests);
    all.problems.push(...r.problems);
    all.files.push(...r.files);
    all.templates.push(...r.templates);
  }
  return all;
}

/** Code against the cluster: what the collector and iac_drift share. */
export async function driftOf(reader: ProxmoxReader, paths: string[], signal?: AbortSignal) {
  const code = await readAll(paths, signal);
  const live = await readLiveGuests(reader, signal);
  return { ...code, drifts: compareGuests(code.guests, live) };
}

function driftTool(reader: ProxmoxReader, paths: string[]): ToolSpec {
  return defineTool({
    name: 'iac_drift',
    title: 'Infrastructure as code against the Proxmox cluster',
    description:
      'Compares Terraform (Telmate proxmox_vm_qemu / proxmox_lxc, bpg proxmox_virtual_environment_vm / _container) and Ansible ' +
      "(proxmox_kvm) code with what the Proxmox VE cluster really runs, guest by guest: node, cores, sockets, memory, disks (storage, " +
      'size, passthrough path, mount point), NICs (bridge, model, VLAN tag, MTU), onboot, tags. Per guest: in sync, drifted (a table of ' +
      'field, code, live), declared but not in the lab, in the lab with no code, or unmatched (code whose vmid and name cannot be ' +
      "resolved, or a name several guests share: not compared). `problems` lists files that could not be read. A value the code states through a variable labwatch cannot resolve is shown as " +
      'unknown, never guessed. Call it to review code against the lab ("is my terraform for the TrueNAS VM right?"), or to check a ' +
      'suggested change before showing it: pass Terraform you wrote or changed as `code`, and show it only once its guests are in ' +
      'sync (or say what still differs and why). Only code under the configured proxmox.iac.paths can be read from disk; path defaults to all of it.',
    input: {
      path: z.string().min(1).max(500).optional().describe('a file or folder under proxmox.iac.paths (absolute, or relative to one of them); default: all of them'),
      code: z.string().min(1).max(64_000).optional().describe('Terraform (HCL) text to check instead of files: a block you propose; only the guests it declares are compared'),
      guest: guestFilter.optional().describe('only this guest: its vmid or name'),
    },
    annotations: READ_ONLY,
    defaultFor: (a) => {
      const m = a.source === 'proxmox' ? /^iac:(?:vm|ct):(\d+)$/.exec(a.subject) : null;
      return m && paths.length ? { guest: Number(m[1]) } : undefined;
    },
    run: ({ path, code, guest }, signal) =>
      guarded(async () => {
        if (code !== undefined) return checkProposed(reader, code, guest, signal);
        if (paths.length === 0) return failed(NO_PATHS);
        let where = paths;
        if (path !== undefined) {
          const p = await allowedPath(path, paths);
          if (typeof p !== 'string') return p;
          where = [p];
        }
        const r = await driftOf(reader, where, signal);
        if (r.files.length === 0)
          return noData(`no Terraform (*.tf, *.tfvars) or Ansible file under ${where.join(', ')}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`);
        const drifts = guest === undefined ? r.drifts : r.drifts.filter((d) => matches(d, guest));
        if (guest !== undefined && drifts.length === 0) return noData(`no guest ${guest} in the code under ${where.join(', ')} nor in the cluster`);
        const counts = driftCounts(drifts);
        const problems = r.problems.length ? ['', 'not read:', ...r.problems.map((p) => `  ${p}`)] : [];
        // templates are left out on both sides (the lab's too): say which code was not compared
        if (r.templates.length) problems.push('', `templates, not compared: ${r.templates.join(', ')}`);
        return ok({ paths: where, files: r.files, counts, guests: drifts, problems: r.problems, templates: r.templates }, `${driftText(drifts)}${problems.length ? `\n${problems.join('\n')}` : ''}`);
      }),
  });
}

/**
 * Terraform a model (or a person) proposes, compared with the lab before it is shown: written to
 * a temporary folder, read as any code is, and compared for the guests it declares only.
 */
async function checkProposed(reader: ProxmoxReader, text: string, guest: number | string | undefined, signal?: AbortSignal): Promise<ToolResult> {
  const { readCode } = await import('./code.ts');
  const dir = await mkdtemp(join(tmpdir(), 'labwatch-iac-'));
  let code: Awaited<ReturnType<typeof readCode>>;
  try {
    await writeFile(join(dir, 'proposed.tf'), text);
    code = await readCode(dir, signal);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (code.problems.length) return failed(`the proposed code does not parse: ${code.problems.join('; ').replaceAll(dir, '')}`);
  if (code.guests.length === 0) return noData('the proposed code declares no Proxmox guest (proxmox_vm_qemu, proxmox_lxc, proxmox_virtual_environment_vm or _container)');
  const live = await readLiveGuests(reader, signal);
  const declared = compareGuests(code.guests, live).filter((d) => d.state !== 'no-code' && (guest === undefined || matches(d, guest)));
  const counts = driftCounts(declared);
  return ok({ proposed: true, counts, guests: declared }, driftText(declared));
}

function generateTool(reader: ProxmoxReader): ToolSpec {
  return defineTool({
    name: 'iac_generate',
    title: 'Terraform for existing Proxmox guests',
    description:
      'Writes Terraform for guests that already run, from their live config, for the bpg (default) or Telmate provider, with import ' +
      'blocks. It carries name, node, vmid, CPU, memory, onboot, run state, tags, disks (storage, size, passthrough path, iothread, ' +
      'discard, ssd, cache, backup), container mount points and bind mounts, NICs (bridge, model, VLAN, MTU, firewall), bios, EFI disk, ' +
      'machine, agent, SCSI controller, OS type and cloud-init settings, and for containers unprivileged, swap and features; everything ' +
      'else keeps the provider default, so `terraform plan` must be read and any change it shows settled before apply. Secrets ' +
      '(cloud-init passwords) become variables. The code is checked before it is ' +
      'returned: it must parse, `terraform fmt -check` runs when terraform or tofu is installed, and it is re-read and compared with the ' +
      'lab it came from (round-trip drift, expected 0). Call it to write the missing code for a guest iac_drift lists without code, or ' +
      'to show a corrected block. It reads the lab only; nothing is applied.',
    input: {
      guest: z.union([z.number().int().min(1).max(999_999_999), z.literal('all')]).describe('a vmid, or "all" for every guest (templates excluded)'),
      provider: z.enum(['bpg', 'telmate']).default('bpg').describe('bpg/proxmox (default) or Telmate/proxmox'),
    },
    annotations: READ_ONLY,
    run: ({ guest, provider }, signal) =>
      guarded(async () => {
        const all = await readLiveGuests(reader, signal);
        const live = guest === 'all' ? all : all.filter((g) => g.vmid === guest);
        if (live.length === 0)
          return guest === 'all' ? noData('the cluster runs no guest (templates are left out)') : failed(`no guest with vmid ${guest} in this Proxmox VE cluster (vmids: ${all.map((g) => g.vmid).join(', ') || 'none'}); call proxmox_guests`);
        const [{ generateTerraform }, { checkTerraform }, { readCode }] = await Promise.all([import('./generate.ts'), import('./check.ts'), import('./code.ts')]);
        const { text, variables } = generateTerraform(live, provider);
        const check = await checkTerraform(text, signal);
        const dir = await mkdtemp(join(tmpdir(), 'labwatch-iac-'));
        let drifts: GuestDrift[];
        let reread: string[];
        try {
          await writeFile(join(dir, 'main.tf'), text);
          const code = await readCode(dir, signal);
          reread = code.problems;
          drifts = compareGuests(code.guests, live);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        const counts = driftCounts(drifts);
        const roundTrip = counts.drifted + counts.not_in_lab + counts.no_code + counts.unmatched;
        const problems = [...check.problems, ...reread];
        const fmt = check.fmt === 'ok' ? 'terraform fmt -check passed' : check.fmt === 'differs' ? 'terraform fmt -check: the layout differs' : 'terraform fmt not run (no terraform or tofu binary)';
        const head = [
          `${provider} Terraform for ${live.map((g) => `${g.vmid} ${g.name}`).join(', ')}`,
          `checked: ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'parses'}; ${fmt}; re-read and compared with the lab: ${roundTrip === 0 ? 'no drift' : `${roundTrip} guest(s) differ (${summaryLine(counts)})`}`,
          ...(variables.length ? [`variables to set (secrets are never written): ${variables.join(', ')}`] : []),
        ];
        return ok(
          { provider, guests: live.map((g) => g.vmid), variables, check: { problems, fmt: check.fmt, round_trip: counts, round_trip_drift: roundTrip, ...(roundTrip ? { differences: drifts.filter((d) => d.state !== 'in-sync') } : {}) }, code: text },
          `${head.join('\n')}\n\n${text}`,
        );
      }),
  });
}

/** The IaC tools: iac_drift only when code is configured (it says how otherwise); iac_generate always. */
export function iacTools(reader: ProxmoxReader, paths: string[]): ToolSpec[] {
  return [driftTool(reader, paths), generateTool(reader)];
}
