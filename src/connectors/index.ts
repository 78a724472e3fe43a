/**
 * THE list of systems labwatch knows. Adding one is its folder plus one line here: its config
 * block, secrets, collectors, tools, probes and intakes are found through this list alone.
 */
import { alertmanager } from './alertmanager/index.ts';
import { host } from './host/index.ts';
import { opnsense } from './opnsense/index.ts';
import { prometheus } from './prometheus/index.ts';
import { proxmox } from './proxmox/index.ts';
import { proxmoxBackup } from './proxmox_backup/index.ts';
import { smart } from './smart/index.ts';
import { truenas } from './truenas/index.ts';
import type { Connector } from './types.ts';
import { zfs } from './zfs/index.ts';

export const CONNECTORS: readonly Connector[] = [
  smart,
  zfs,
  host,
  prometheus,
  alertmanager,
  proxmox,
  proxmoxBackup,
  truenas,
  opnsense,
];
