/**
 * Terraform for guests that already run, written from their live config, with `import` blocks so that
 * `terraform plan` adopts them instead of creating new ones. Either Proxmox provider:
 * - bpg/proxmox: `proxmox_virtual_environment_vm` / `_container`, import id `<node_name>/<vm_id>`
 *   (the resources' "Import" sections in bpg's docs); written by generate-bpg.ts;
 * - telmate/proxmox 3.x: `proxmox_vm_qemu` (the `disks {}` form) / `proxmox_lxc`, import id
 *   `<node>/<type>/<vmid>` (`[node]/[type]/[vmId]` in vm_qemu's docs; `pve/lxc/100` for a container);
 *   written by generate-telmate.ts.
 *
 * What is carried (CARRIED below, also said at the top of each file): name, node, vmid, cores, sockets,
 * memory, onboot, run state, tags, disks (storage, size, passthrough path, iothread/discard/ssd/cache/backup),
 * container mount points (volume or bind-mounted host path, path inside, size), NICs (bridge, model,
 * VLAN, MTU, firewall), bios, the EFI disk, machine, agent, SCSI controller, OS type, cloud-init user,
 * IP config and drive; for containers unprivileged, swap and features. Everything else (boot order,
 * CPU flags, serial/VGA, hostpci/USB, startup order, rate limits…) keeps the provider's default, so
 * `terraform plan` must be read, and any change it shows settled, before `apply`.
 *
 * Never a secret: a key Proxmox holds a secret in (`cipassword`) becomes a `sensitive` variable with no
 * default. MAC addresses and disk volume names are left out on purpose: both providers read them back
 * as computed values after the import (bpg `mac_address`, Telmate `macaddr` is Optional+Computed), so
 * leaving them unset changes nothing, while a copied value would pin the file to one machine.
 */
import { bpgContainer, bpgVm } from './generate-bpg.ts';
import type { Variable } from './generate-parts.ts';
import { telmateContainer, telmateVm } from './generate-telmate.ts';
import type { LiveGuest } from './model.ts';
import { type Item, attr, block, comment, ref, str, writeFile } from './write-hcl.ts';

type Provider = 'bpg' | 'telmate';

const SOURCE: Record<Provider, string> = { bpg: 'bpg/proxmox', telmate: 'telmate/proxmox' };

const CARRIED =
  'name, node, vmid, cores, sockets, memory, onboot, run state, tags, disks (storage, size, passthrough path, iothread, discard, ssd, cache, backup), mount points (volume or host path, path inside, size), NICs (bridge, model, VLAN, MTU, firewall), bios, EFI disk, machine, agent, SCSI controller, OS type, cloud-init user, IP config and drive; for containers also unprivileged, swap and features';

/** A Terraform name from the guest's name: lower-case [a-z0-9_], not starting with a digit, unique. */
function identifierFor(guest: LiveGuest, taken: Set<string>): string {
  let id = guest.name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  if (id === '' || /^[0-9]/.test(id)) id = `${guest.kind === 'lxc' ? 'ct' : 'vm'}_${id || guest.vmid}`;
  if (taken.has(id)) id = `${id}_${guest.vmid}`;
  for (let n = 2; taken.has(id); n++) id = `${id}_${n}`;
  taken.add(id);
  return id;
}

/** CARRIED as comment lines of at most ~100 characters. */
function carriedLines(): Item[] {
  const lines: string[] = [];
  let line = 'Carried from the live config:';
  for (const word of CARRIED.split(' ')) {
    if (line.length + word.length + 1 > 100) {
      lines.push(line);
      line = word;
    } else line += ` ${word}`;
  }
  lines.push(`${line}.`);
  return lines.map(comment);
}

/**
 * Terraform for these guests, one resource and one import block each, in the given provider's
 * resources; `variables` names the variables the user must set (sensitive ones for secrets).
 */
export function generateTerraform(guests: LiveGuest[], provider: Provider): { text: string; variables: string[] } {
  const taken = new Set<string>();
  const items: Item[] = [
    comment('Written by labwatch from the live Proxmox config.'),
    ...carriedLines(),
    comment('Everything else keeps the provider default: read terraform plan and settle every change it'),
    comment('shows before apply.'),
    block('terraform', [], [block('required_providers', [], [attr('proxmox', `{\n      source = ${str(SOURCE[provider])}\n    }`)])]),
  ];
  const variables: Variable[] = [];
  for (const guest of [...guests].sort((a, b) => a.vmid - b.vmid)) {
    const id = identifierFor(guest, taken);
    const w = provider === 'bpg' ? (guest.kind === 'lxc' ? bpgContainer(guest, id) : bpgVm(guest, id)) : guest.kind === 'lxc' ? telmateContainer(guest, id) : telmateVm(guest, id);
    items.push(w.resource, block('import', [], [attr('to', ref(w.address)), attr('id', str(w.importId))]));
    variables.push(...w.variables);
  }
  for (const v of variables) {
    const body: Item[] = [attr('description', str(v.description)), attr('type', 'string')];
    if (v.sensitive) body.push(attr('sensitive', 'true'));
    items.push(block('variable', [v.name], body));
  }
  return { text: writeFile(items), variables: variables.map((v) => v.name) };
}
