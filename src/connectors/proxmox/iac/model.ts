/**
 * Infrastructure as code against the live cluster: one shape for a guest as code declares it
 * (Terraform, either Proxmox provider, or Ansible) and as Proxmox runs it, so that comparing,
 * reporting and generating never care where a guest came from.
 *
 * A value code states but labwatch cannot resolve (a variable without a default, a function call)
 * is `{ unknown: why }`: reported as unknown, never guessed.
 */

export type Unknown = { unknown: string };
export type Value<T> = T | Unknown;

export const isUnknown = (v: unknown): v is Unknown => typeof v === 'object' && v !== null && !Array.isArray(v) && 'unknown' in v;

export interface GuestDisk {
  /** where it is attached, in Proxmox's words: scsi0, virtio1, sata0, ide0; rootfs, mp0 for a container */
  slot: string;
  storage?: Value<string>;
  /** in GiB (Proxmox's `size=32G`; `size=512M` is 0.5) */
  sizeGb?: Value<number>;
  /** a disk passed through (`/dev/disk/by-id/…`) or a container's bind mount (`/tank/media`): no storage, no size of Proxmox's */
  path?: Value<string>;
  /** a container mount point's path inside the guest (`mp=/data`) */
  mountpoint?: Value<string>;
}

export interface GuestNic {
  /** net0, net1… (code that numbers nothing gets them in order) */
  slot: string;
  bridge?: Value<string>;
  /** virtio, e1000, vmxnet3…; veth for a container */
  model?: Value<string>;
  /** the interface name inside a container (`name=eth0` in an LXC `net0`); Terraform for a container needs it */
  name?: string;
  /** the VLAN tag; absent = untagged */
  tag?: Value<number>;
  mtu?: Value<number>;
}

/** What both sides can say about a guest; a field left out was not stated (code) or not set (live). */
export interface GuestSpec {
  kind: 'qemu' | 'lxc';
  vmid?: Value<number>;
  name?: Value<string>;
  node?: Value<string>;
  cores?: Value<number>;
  sockets?: Value<number>;
  memoryMb?: Value<number>;
  onboot?: Value<boolean>;
  /** sorted, lower-case (Proxmox stores them so) */
  tags?: Value<string[]>;
  disks: GuestDisk[];
  nics: GuestNic[];
}

/** A guest as a file declares it. */
export interface DeclaredGuest extends GuestSpec {
  provider: 'telmate' | 'bpg' | 'ansible';
  /** the file and the resource address or task name, for people: `main.tf: proxmox_vm_qemu.truenas` */
  where: { file: string; line?: number; address: string };
}

/** A guest as the cluster runs it. */
export interface LiveGuest extends GuestSpec {
  vmid: number;
  name: string;
  node: string;
  /** running, stopped… */
  status: string;
  /**
   * Settings labwatch does not compare but generated Terraform repeats, so that `terraform plan` after an
   * import changes nothing where a provider's default differs from Proxmox's: the config's own keys and
   * values (`cpu`, `scsihw`, `ostype`, `ciuser`, `ipconfig0`…; `cloudinit` = the slot and storage of the
   * cloud-init drive, `ide2:local`). Never a secret.
   */
  settings?: Record<string, string>;
  /** config keys that hold a secret Proxmox does not return (it answers `cipassword` as "**********") */
  secrets?: string[];
}

/** One field where code and the lab disagree, or where code's value is unknown. */
export interface FieldDrift {
  /** e.g. memory_mb, cores, disk scsi0 size_gb, nic net0 tag */
  field: string;
  code: string;
  live: string;
  verdict: 'differs' | 'unknown';
}

/** The comparison of one guest. */
export interface GuestDrift {
  /** the live guest's kind, else what code declares */
  kind: 'qemu' | 'lxc';
  vmid?: number;
  name: string;
  /**
   * in-sync: nothing differs; drifted: something does; not-in-lab: code declares a guest (by a
   * known vmid or name) the cluster does not run; no-code: a live guest no code declares;
   * unmatched: code whose vmid and name are both unknown (a for_each over a data source, an
   * Ansible loop): it cannot be matched, so it is neither drift nor in sync
   */
  state: 'in-sync' | 'drifted' | 'not-in-lab' | 'no-code' | 'unmatched';
  where?: DeclaredGuest['where'];
  node?: string;
  fields: FieldDrift[];
  /** the fields code states that were compared (agreeing or not), so "in sync" says what it covers */
  checked?: string[];
  /** what is wrong with the code itself for this guest, e.g. "declared twice: main.tf: proxmox_vm_qemu.a, site.yml: create vm" */
  problems?: string[];
}
