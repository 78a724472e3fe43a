/**
 * Turning what code states (a resolved HCL value, a YAML scalar) into the model's units: numbers, MiB, GiB,
 * sorted lower-case tags. A value of the wrong shape becomes unknown with the reason; nothing is guessed.
 */
import { isUnknown, type GuestDisk, type GuestNic, type Value } from './model.ts';
import type { Resolved } from './hcl.ts';

type Raw = Resolved | undefined;

const shown = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** A number (HCL and YAML both allow "2048" for 2048). Absent or null: not stated. */
export function num(v: Raw, what: string): Value<number> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isUnknown(v)) return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return { unknown: `${what} = ${shown(v)} is not a number` };
}

export function str(v: Raw, what: string): Value<string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isUnknown(v)) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return { unknown: `${what} = ${shown(v)} is not a string` };
}

/** true/false, 1/0, "true"/"yes"/"1" (Proxmox and Ansible both write booleans as 0/1). */
export function bool(v: Raw, what: string): Value<boolean> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isUnknown(v)) return v;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(s)) return true;
    if (['false', 'no', '0', 'off'].includes(s)) return false;
  }
  return { unknown: `${what} = ${shown(v)} is not a boolean` };
}

/** Tags as Proxmox keeps them: split on ; , or space, lower-case, sorted, no duplicates. */
export function tags(v: Raw, what: string): Value<string[]> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isUnknown(v)) return v;
  const items = Array.isArray(v) ? v : [v];
  const out = new Set<string>();
  for (const item of items) {
    if (isUnknown(item)) return { unknown: `${what}: ${item.unknown}` };
    if (typeof item !== 'string') return { unknown: `${what} = ${shown(v)} is not a list of strings` };
    for (const tag of item.split(/[;,\s]+/)) if (tag) out.add(tag.toLowerCase());
  }
  return [...out].sort();
}

const UNIT_GIB: Record<string, number> = { K: 1 / (1024 * 1024), M: 1 / 1024, G: 1, T: 1024 };

/** A size in GiB: Proxmox's 32G / 512M / 1T, or a bare number already in GiB (bpg, Telmate 3.x). */
export function sizeGb(v: Raw, what: string): Value<number> | undefined {
  if (v === undefined || v === null) return undefined;
  if (isUnknown(v)) return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])?\s*$/i.exec(v);
    if (m) return Number(m[1]) * UNIT_GIB[(m[2] ?? 'G').toUpperCase()]!;
  }
  return { unknown: `${what} = ${shown(v)} is not a size Proxmox reads (32G, 512M, 1T or a number of GiB)` };
}

/** A VLAN tag; -1 (Telmate's "no VLAN") and 0 mean untagged, left out like Proxmox leaves it out. */
export function vlanTag(v: Raw, what: string): Value<number> | undefined {
  const tag = num(v, what);
  return typeof tag === 'number' && tag <= 0 ? undefined : tag;
}

/** A VMID; 0 means "the next free one" in both Terraform providers, so code states none. */
export function vmid(v: Raw, what: string): Value<number> | undefined {
  const id = num(v, what);
  return id === 0 ? undefined : id;
}

/** Drops the keys whose value is undefined, so "not stated" is an absent field, not `undefined`. */
export function defined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}

type Obj = { [key: string]: Resolved };

/** The blocks of one kind in a resolved resource (hcl2json gives every nested block as a list of objects). */
export function blocks(v: Raw): Obj[] {
  if (Array.isArray(v)) return v.filter((b): b is Obj => !!b && typeof b === 'object' && !Array.isArray(b) && !isUnknown(b));
  if (v && typeof v === 'object' && !isUnknown(v)) return [v as Obj];
  return [];
}

/** Why a value set inside a `dynamic "name"` block is unknown. */
function dynamicUnknown(name: string): { unknown: string } {
  return { unknown: `set by a dynamic "${name}" block, which labwatch does not expand` };
}

/**
 * The stand-in for the disks or NICs a `dynamic "name"` block adds: slot `dynamic:<name>` (compare.ts
 * recognises the `dynamic:` prefix) with every field unknown, so the comparison says they are unknown
 * rather than missing.
 */
export function dynamicDisk(name: string, withMountpoint = false): GuestDisk {
  const u = dynamicUnknown(name);
  return { slot: `dynamic:${name}`, storage: u, sizeGb: u, path: u, ...(withMountpoint ? { mountpoint: u } : {}) };
}

export function dynamicNic(name: string): GuestNic {
  const u = dynamicUnknown(name);
  return { slot: `dynamic:${name}`, bridge: u, model: u, tag: u, mtu: u };
}

/** `template = true`: a template, which labwatch (like live.ts) leaves out of the comparison. */
export function isTemplate(v: Raw): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['true', '1'].includes(v.trim().toLowerCase()));
}
