/**
 * The scheduled drift check (`proxmox-iac`, on proxmox.iac.schedule): the code under
 * proxmox.iac.paths against the cluster, one `iac` observation per guest that code declares or
 * the cluster runs. Its subject is `iac:vm:<vmid>` / `iac:ct:<vmid>` in the guest's group
 * (`vm:<vmid>` on its node), so a drift joins the guest's incident while its state and history
 * stay apart from the guest's own 2-minute readings (which share no values with it).
 * Files that could not be read are one `collector:proxmox-iac/code` observation (rule labwatch-collector-failing).
 *
 * Across runs (kept in memory, as the other collectors keep theirs): a subject reported last run
 * and absent now is sent once as `gone`, so what it raised resolves. While code has problems, a
 * guest the last clean run saw declared and that is missing now gets no verdict at all (neither
 * "no code" nor gone): its file most likely failed to read, and its incident should not flap.
 */
import type { Collector, Observation } from '../../types.ts';
import type { ProxmoxReader } from '../read.ts';
import type { GuestDrift } from './model.ts';
import { driftOf } from './tools.ts';

const prefix = (d: GuestDrift) => (d.kind === 'lxc' ? 'ct' : 'vm');
const guestOf = (d: GuestDrift) => (d.vmid !== undefined ? `${prefix(d)}:${d.vmid}` : `${prefix(d)}:${d.name}`);

function observationOf(d: GuestDrift, host: string, at: string): Observation {
  const guest = guestOf(d);
  const differs = d.fields.filter((f) => f.verdict === 'differs');
  const where = d.where ? `${d.where.file}: ${d.where.address}` : '';
  return {
    source: 'proxmox',
    kind: 'iac',
    subject: `iac:${guest}`,
    host: d.node ?? host,
    at,
    // the guest's own subject on its node: its incident
    ...(d.vmid !== undefined && d.state !== 'not-in-lab' && d.state !== 'unmatched' ? { group: guest } : {}),
    values: {
      guest,
      // a string: a number would be kept as history, which a vmid is not
      vmid: d.vmid !== undefined ? String(d.vmid) : '',
      name: d.name,
      node: d.node ?? '',
      state: d.state,
      // unmatched code (vmid and name unknown) is neither drift nor in sync: never raised
      drifted: d.state === 'drifted' || d.state === 'not-in-lab',
      fields: differs.map((f) => f.field).join(', '),
      changes: differs.map((f) => `${f.field} ${f.code} → ${f.live}`).join('; '),
      unknown: d.fields.filter((f) => f.verdict === 'unknown').map((f) => f.field).join(', '),
      problems: (d.problems ?? []).join('; '),
      not_in_lab: d.state === 'not-in-lab',
      no_code: d.state === 'no-code',
      where,
    },
  };
}

export function iacCollector(opts: { reader: ProxmoxReader; paths: string[]; host: string }): Collector {
  /** what each subject was last reported as (or remembered without a verdict), to send `gone` once it vanishes */
  let last = new Map<string, Observation>();
  /** the subjects code declared in the last run whose code read without a problem */
  let declared = new Set<string>();
  return {
    name: 'proxmox-iac',
    collect: async (signal) => {
      const at = new Date().toISOString();
      const r = await driftOf(opts.reader, opts.paths, signal);
      const error = r.files.length === 0 ? `no Terraform or Ansible file under ${opts.paths.join(', ')}` : r.problems.join('; ');
      const now = new Map<string, Observation>();
      // one observation per subject: compareGuests already folds a guest declared twice into one row
      for (const d of r.drifts) {
        const o = observationOf(d, opts.host, at);
        if (!now.has(o.subject)) now.set(o.subject, o);
      }
      const isDeclared = (o: Observation) => o.values.state !== 'no-code';
      const held: string[] = [];
      if (error) {
        for (const subject of declared) {
          const o = now.get(subject);
          if (o && isDeclared(o)) continue;
          // declared last time, not now: no verdict while the code cannot be read, and not gone either
          held.push(subject);
          now.delete(subject);
        }
      } else declared = new Set([...now.values()].filter(isDeclared).map((o) => o.subject));
      const out = [...now.values()];
      for (const [subject, before] of last) if (!now.has(subject) && !held.includes(subject)) out.push({ ...before, at, gone: true });
      const next = new Map(now);
      for (const subject of held) {
        const before = last.get(subject);
        if (before) next.set(subject, before);
      }
      last = next;
      const said = error && held.length ? `${error}; not judged until the code reads again: ${held.sort().join(', ')}` : error;
      // Its own subject: the watcher records the run itself as collector:proxmox-iac (ok, the API answered), which
      // would overwrite a problem with the code told under the same subject in the same run.
      out.push({ source: 'proxmox', kind: 'collector', subject: 'collector:proxmox-iac/code', host: opts.host, at, values: { ok: error === '', error: said } });
      return out;
    },
  };
}
