/**
 * The scheduled drift check (`proxmox-iac`, on proxmox.iac.schedule): the code under
 * proxmox.iac.paths against the cluster, one `iac` observation per guest that code declares or
 * the cluster runs. Its subject is `iac:vm:<vmid>` / `iac:ct:<vmid>` in the guest's group
 * (`vm:<vmid>` on its node), so a drift joins the guest's incident while its state and history
 * stay apart from the guest's own 2-minute readings (which share no values with it).
 * Files that could not be read are one `collector:proxmox-iac/code` observation (rule labwatch-collector-failing).
 */
import type { Collector, Observation } from '../../types.ts';
import type { ProxmoxReader } from '../read.ts';
import type { GuestDrift } from './model.ts';
import { driftOf } from './tools.ts';

const prefix = (d: GuestDrift) => (d.kind === 'lxc' ? 'ct' : 'vm');

function observationOf(d: GuestDrift, host: string, at: string): Observation {
  const guest = d.vmid !== undefined ? `${prefix(d)}:${d.vmid}` : `${prefix(d)}:${d.name}`;
  const differs = d.fields.filter((f) => f.verdict === 'differs');
  const where = d.where ? `${d.where.file}: ${d.where.address}` : '';
  return {
    source: 'proxmox',
    kind: 'iac',
    subject: `iac:${guest}`,
    host: d.node ?? host,
    at,
    // the guest's own subject on its node: its incident
    ...(d.vmid !== undefined && d.state !== 'not-in-lab' ? { group: guest } : {}),
    values: {
      guest,
      // a string: a number would be kept as history, which a vmid is not
      vmid: d.vmid !== undefined ? String(d.vmid) : '',
      name: d.name,
      node: d.node ?? '',
      state: d.state,
      drifted: d.state === 'drifted' || d.state === 'not-in-lab',
      fields: differs.map((f) => f.field).join(', '),
      changes: differs.map((f) => `${f.field} ${f.code} → ${f.live}`).join('; '),
      unknown: d.fields.filter((f) => f.verdict === 'unknown').map((f) => f.field).join(', '),
      not_in_lab: d.state === 'not-in-lab',
      no_code: d.state === 'no-code',
      where,
    },
  };
}

export function iacCollector(opts: { reader: ProxmoxReader; paths: string[]; host: string }): Collector {
  return {
    name: 'proxmox-iac',
    collect: async (signal) => {
      const at = new Date().toISOString();
      const r = await driftOf(opts.reader, opts.paths, signal);
      const out = r.drifts.map((d) => observationOf(d, opts.host, at));
      const error = r.files.length === 0 ? `no Terraform or Ansible file under ${opts.paths.join(', ')}` : r.problems.join('; ');
      // Its own subject: the watcher records the run itself as collector:proxmox-iac (ok, the API answered), which
      // would overwrite a problem with the code told under the same subject in the same run.
      out.push({ source: 'proxmox', kind: 'collector', subject: 'collector:proxmox-iac/code', host: opts.host, at, values: { ok: error === '', error } });
      return out;
    },
  };
}
