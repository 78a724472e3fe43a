/**
 * What Proxmox VE's `GET /nodes/{node}/disks/zfs/{name}` answers for a given `zpool status` text,
 * for pools no one has published a PVE capture of (a degraded one). It follows the `detail`
 * handler of proxmox/pve-storage src/PVE/API2/Disks/ZFS.pm line by line:
 *
 * - a line matching `^\s*(\S+): (\S+.*)$` sets field $1 to $2 (checked first, even in the config
 *   table); `errors` ends the config table;
 * - outside the table, an indented line is appended to the last field with one space;
 * - `config:` starts the table; in it, a row matching
 *   `^(\s+)(\S+)\s*(\S+)?(?:\s+(\S+)\s+(\S+)\s+(\S+))?\s*(.*)$` (not the NAME header) becomes
 *   {name, msg, state?, read?, write?, cksum?} at level int(length(indent)/2)+1, the counters
 *   numified with Perl's `+0` (leading number or 0: "1.37K" → 1.37, "currently" → 0);
 * - the tree is built with a stack (deeper: first child of the last row; same level: sibling;
 *   shallower: pop until a row with a lower level, or the pool);
 * - finally `pool` is renamed `name`, `lvl` dropped and `leaf` set to 1 on rows without children
 *   (0 otherwise, the pool included).
 * Returned with the `{data: …}` envelope PVE's HTTP answer has.
 */

interface Node {
  lvl: number;
  name?: string;
  msg?: string;
  state?: string;
  read?: number;
  write?: number;
  cksum?: number;
  leaf?: number;
  children?: Node[];
  [field: string]: unknown;
}

/** Perl's numification of a string: its leading decimal number, else 0. */
function perlNumber(s: string): number {
  const m = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m ? Number(m[1]) : 0;
}

export function pveZfsDetailFromStatus(text: string): { data: Record<string, unknown> } {
  const pool: Node = { lvl: 0 };
  let curfield = '';
  let config = false;
  const stack: Node[] = [pool];
  let curlvl = 0;

  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^\s*(\S+): (\S+.*)$/.exec(line))) {
      curfield = m[1]!;
      pool[curfield] = m[2]!;
      if (curfield === 'errors') config = false;
    } else if (!config && (m = /^\s+(\S+.*)$/.exec(line))) {
      pool[curfield] = `${String(pool[curfield])} ${m[1]!}`;
    } else if (!config && /^\s*config:/.test(line)) {
      config = true;
    } else if (config && (m = /^(\s+)(\S+)\s*(\S+)?(?:\s+(\S+)\s+(\S+)\s+(\S+))?\s*(.*)$/.exec(line))) {
      const [, space, name, state, read, write, cksum, msg] = m;
      if (name === 'NAME') continue;
      const lvl = Math.floor(space!.length / 2) + 1; // two spaces per level
      const vdev: Node = { name: name!, msg: msg!, lvl };
      if (state !== undefined) vdev.state = state;
      if (read !== undefined) vdev.read = perlNumber(read);
      if (write !== undefined) vdev.write = perlNumber(write);
      if (cksum !== undefined) vdev.cksum = perlNumber(cksum);

      let cur = stack.pop()!;
      if (lvl > curlvl) {
        cur.children = [vdev];
      } else if (lvl === curlvl) {
        cur = stack.pop()!;
        cur.children!.push(vdev);
      } else {
        while (lvl <= cur.lvl && cur.lvl !== 0) cur = stack.pop()!;
        (cur.children ??= []).push(vdev);
      }
      stack.push(cur, vdev);
      curlvl = lvl;
    }
  }

  pool.name = pool.pool as string;
  delete pool.pool;
  const prepare = (el: Node) => {
    delete (el as Partial<Node>).lvl;
    if (el.children?.length) {
      el.leaf = 0;
      el.children.forEach(prepare);
    } else {
      el.leaf = 1;
    }
  };
  prepare(pool);
  // through JSON, as PVE sends it
  return JSON.parse(JSON.stringify({ data: pool })) as { data: Record<string, unknown> };
}

/**
 * What `GET /nodes/{node}/disks/zfs` answers for the pools of a `zpool list` capture: ZFS.pm's
 * `get_pool_data` runs `zpool list -HpPLo name,size,alloc,free,frag,dedup,health` and `+0`s every
 * column but name and health (so "-" becomes 0). The capture's header names the columns to take.
 */
export function pveZfsListFromZpoolList(text: string): Record<string, unknown>[] {
  const [header, ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  const columns = header!.trim().split(/\s+/).map((c) => c.toLowerCase());
  const props = ['name', 'size', 'alloc', 'free', 'frag', 'dedup', 'health'];
  return rows.map((row) => {
    const cells = row.trim().split(/\s+/);
    return Object.fromEntries(props.map((p) => {
      const cell = cells[columns.indexOf(p)]!;
      return [p, p === 'name' || p === 'health' ? cell : perlNumber(cell)];
    }));
  });
}
