/**
 * ZFS message ids (the `see: …/msg/ZFS-8000-xx` link of `zpool status`) → what it means and what
 * to do, in one line each. Titles and meanings follow OpenZFS's published message pages
 * (openzfs-docs/msg, whose index lists 14, 2Q, 3C, 4J, 5E, 6X, 72, 8A, 9P, A5, ER, EY, HC, JQ, K4);
 * libzfs_status.c's table adds MM. D3, FD, GH and CS are fault-manager diagnoses (illumos fmd,
 * Oracle's ZFS guide), seen in ZED/fmadm mail rather than in `zpool status`; QJ is Oracle
 * Solaris only. Ids not in the table are passed on as the link alone.
 */
interface ZfsMessage {
  /** the docs page's title */
  title: string;
  /** what it means for the pool, one line */
  meaning: string;
  /** what to do, one line */
  action: string;
}

const MESSAGES: Record<string, ZfsMessage> = {
  'ZFS-8000-14': {
    title: 'Corrupt ZFS cache',
    meaning: 'the pool cache file (zpool.cache) is damaged, so pools may not be opened at boot',
    action: 're-import the pools with `zpool import`; the cache file is rewritten',
  },
  'ZFS-8000-2Q': {
    title: 'Missing device in replicated configuration',
    meaning: 'a device could not be opened; the pool runs on its remaining redundancy',
    action: 'reconnect the device and `zpool online` it, or `zpool replace` it',
  },
  'ZFS-8000-3C': {
    title: 'Missing device in non-replicated configuration',
    meaning: 'a device with no redundancy behind it could not be opened: the pool cannot be used',
    action: 'reconnect the device (cable, power, controller) and `zpool online` it',
  },
  'ZFS-8000-4J': {
    title: 'Corrupted device label in a replicated configuration',
    meaning: 'a device has a missing or invalid label; the pool runs on its remaining redundancy',
    action: 'replace the device with `zpool replace`',
  },
  'ZFS-8000-5E': {
    title: 'Corrupted device label in non-replicated configuration',
    meaning: 'a device with no redundancy behind it has an invalid label: the pool cannot be used',
    action: 'restore the pool from backup (destroy and re-create it)',
  },
  'ZFS-8000-6X': {
    title: 'Missing top level device',
    meaning: 'a whole top-level vdev is missing: the pool cannot be opened',
    action: 'attach the missing devices and import again',
  },
  'ZFS-8000-72': {
    title: 'Corrupted pool metadata',
    meaning: "the pool's metadata is damaged: the pool cannot be opened",
    action: 'try a recovery import (`zpool import -F`, which discards the last transactions), else restore from backup',
  },
  'ZFS-8000-8A': {
    title: 'Corrupted data',
    meaning: 'data could not be repaired from redundancy: the files `zpool status -v` lists are damaged',
    action: 'restore the listed files from backup (or delete them), then scrub',
  },
  'ZFS-8000-9P': {
    title: 'Failing device in replicated configuration',
    meaning: 'a device had errors that ZFS repaired from redundancy; applications are unaffected',
    action: "check the disk's SMART data and cable; `zpool clear` if it was transient, `zpool replace` if errors return",
  },
  'ZFS-8000-A5': {
    title: 'Incompatible version',
    meaning: 'the pool was written by a newer ZFS than this system runs',
    action: 'upgrade ZFS on this system (or import the pool where it was created)',
  },
  'ZFS-8000-ER': {
    title: 'ZFS Errata',
    meaning: 'the pool is affected by a known on-disk errata',
    action: "follow the errata's steps on the linked page",
  },
  'ZFS-8000-EY': {
    title: 'Pool last accessed by another system',
    meaning: 'the pool was last imported by another host (hostid mismatch)',
    action: 'make sure no other system uses the pool, then `zpool import -f`',
  },
  'ZFS-8000-HC': {
    title: 'Pool I/O failure (failmode=wait)',
    meaning: 'pool I/O is currently suspended: devices failed and every read and write waits',
    action: 'reconnect or power the failed devices (cable, HBA, enclosure), then `zpool clear` the pool',
  },
  'ZFS-8000-JQ': {
    title: 'Pool I/O failure (failmode=continue)',
    meaning: 'devices failed: new writes fail with I/O errors, reads from healthy devices go on',
    action: 'reconnect or power the failed devices (cable, HBA, enclosure), then `zpool clear` the pool',
  },
  'ZFS-8000-K4': {
    title: 'ZFS intent log read failure',
    meaning: 'a log (SLOG) device is missing or unreadable: the last few seconds of synchronous writes cannot be replayed',
    action: 'restore the log device and `zpool online` + `zpool clear`, or `zpool clear` to drop those writes; mirror log devices',
  },
  'ZFS-8000-MM': {
    title: 'Pool suspended by multihost protection',
    meaning: "multihost (MMP) writes failed or were late, so ZFS suspended the pool's I/O",
    action: "check the pool's devices, then reboot and import the pool",
  },
  'ZFS-8000-D3': {
    title: 'Device failed (fault manager)',
    meaning: 'a ZFS device failed; the fault tolerance of the pool may be compromised',
    action: 'run `zpool status -x` and replace the bad device',
  },
  'ZFS-8000-FD': {
    title: 'Too many I/O errors (fault manager)',
    meaning: 'a device passed the I/O error limit and was faulted',
    action: 'run `zpool status -x` and replace the bad device',
  },
  'ZFS-8000-GH': {
    title: 'Too many checksum errors (fault manager)',
    meaning: 'a device passed the checksum error limit and was faulted',
    action: 'run `zpool status -x`, check cable and controller, and replace the device',
  },
  'ZFS-8000-CS': {
    title: 'Pool failed to open (fault manager)',
    meaning: 'a pool could not be opened',
    action: 'run `zpool status -x` and reconnect or replace the missing devices',
  },
  'ZFS-8000-QJ': {
    title: 'Outstanding DTLs on a device (Oracle Solaris)',
    meaning: 'a device is missing data it must resilver (Oracle Solaris fault manager only)',
    action: 'run `zpool status -lx` and let the resilver finish, or replace the device',
  },
};

/** The meaning and action of a message id, if known. */
export function zfsMessage(id: string | undefined): ZfsMessage | undefined {
  return id !== undefined && Object.hasOwn(MESSAGES, id) ? MESSAGES[id] : undefined;
}
