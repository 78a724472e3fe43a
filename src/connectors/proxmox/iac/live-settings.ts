/**
 * What generated code must carry besides the compared fields (live.ts reads those): the settings
 * a provider would otherwise set to its own default on import. Never a secret: Proxmox masks
 * those, and their names are kept so the code asks for them as variables.
 *
 * Keys, with values as Proxmox writes them (qm.conf / pct.conf in pve-docs):
 * - the config's own key: `cpu`, `scsihw`, `ostype`, `ciuser`, `ipconfig<n>`, `bios`, `machine`,
 *   `swap`; `agent` = "1"/"0" (the enabled flag of `agent: 1` or `agent: enabled=1,fstrim_cloned_disks=1`);
 * - `unprivileged` = "1"/"0" for every container: pct.conf's default is 0, so a config without the
 *   key is a privileged container (the GUI writes `unprivileged: 1` for the unprivileged default);
 * - `cloudinit` = the cloud-init drive's slot and storage, `ide2:local`;
 * - `efidisk0:storage`, `efidisk0:efitype`, `efidisk0:pre-enrolled-keys` (never the volume name);
 * - `disk:<slot>:<option>` for a disk's iothread, discard, ssd, cache, backup (`disk:scsi0:discard` = "on");
 * - `net:<slot>:firewall` = "1"/"0" where a NIC states it;
 * - `features:<flag>` for a container's features (`features:nesting` = "1", `features:mount` = "nfs;cifs").
 */
import type { LiveGuest } from './model.ts';

const PLAIN = new Set(['cpu', 'scsihw', 'ostype', 'ciuser', 'bios', 'machine', 'swap']);
const DISK_OPTIONS = ['iothread', 'discard', 'ssd', 'cache', 'backup'] as const;
const QEMU_DISK = /^(ide|sata|scsi|virtio)\d+$/;
const LXC_DISK = /^(rootfs|mp\d+)$/;

/** "local-lvm:vm-100-disk-0,size=32G,ssd=1" → { '': 'local-lvm:vm-100-disk-0', size: '32G', ssd: '1' } */
function parts(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) out[''] ??= part.trim();
    else out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

const on = (v: unknown): boolean => v === true || v === 1 || v === '1';

export function settingsOf(kind: 'qemu' | 'lxc', config: Record<string, unknown>): Pick<LiveGuest, 'settings' | 'secrets'> {
  const settings: Record<string, string> = {};
  const secrets: string[] = [];
  if (kind === 'lxc') settings.unprivileged = on(config.unprivileged) ? '1' : '0';
  for (const [key, v] of Object.entries(config)) {
    if (key === 'cipassword' || v === '**********') {
      secrets.push(key);
      continue;
    }
    if (PLAIN.has(key) || /^ipconfig\d+$/.test(key)) settings[key] = String(v);
    else if (key === 'agent' && kind === 'qemu') {
      const p = parts(String(v));
      settings.agent = on(p.enabled ?? p['']) ? '1' : '0';
    } else if (key === 'efidisk0' && kind === 'qemu' && typeof v === 'string') {
      const p = parts(v);
      const volume = p[''] ?? p.file ?? '';
      if (volume.indexOf(':') > 0) settings['efidisk0:storage'] = volume.slice(0, volume.indexOf(':'));
      if (p.efitype) settings['efidisk0:efitype'] = p.efitype;
      if (p['pre-enrolled-keys']) settings['efidisk0:pre-enrolled-keys'] = p['pre-enrolled-keys'];
    } else if (key === 'features' && kind === 'lxc' && typeof v === 'string') {
      for (const [flag, value] of Object.entries(parts(v))) if (flag) settings[`features:${flag}`] = value;
    } else if (/^net\d+$/.test(key) && typeof v === 'string') {
      const fw = parts(v).firewall;
      if (fw !== undefined) settings[`net:${key}:firewall`] = on(fw) ? '1' : '0';
    } else if ((kind === 'qemu' ? QEMU_DISK : LXC_DISK).test(key) && typeof v === 'string') {
      if (kind === 'qemu' && /cloudinit/.test(v)) {
        settings.cloudinit = `${key}:${v.slice(0, v.indexOf(':'))}`;
        continue;
      }
      const p = parts(v);
      if (p.media === 'cdrom') continue;
      for (const option of DISK_OPTIONS) if (p[option] !== undefined) settings[`disk:${key}:${option}`] = p[option]!;
    }
  }
  return { ...(Object.keys(settings).length ? { settings } : {}), ...(secrets.length ? { secrets } : {}) };
}
