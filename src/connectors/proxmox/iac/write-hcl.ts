/**
 * Writing HCL the way `terraform fmt` lays it out, so generated files pass `terraform fmt -check`:
 * two spaces a level, the `=` of consecutive attribute lines aligned, one blank line between an
 * attribute run and a nested block and between blocks. Comments sit on their own lines (a trailing
 * comment would join the alignment in ways not worth copying).
 */

/** An attribute whose value is already an HCL expression (see `str`, `num`, `bool`, `list`, `ref`). */
interface Attr {
  kind: 'attr';
  name: string;
  expr: string;
}

export interface Block {
  kind: 'block';
  type: string;
  labels: string[];
  body: Item[];
}

interface Comment {
  kind: 'comment';
  text: string;
}

export type Item = Attr | Block | Comment;

export const attr = (name: string, expr: string): Attr => ({ kind: 'attr', name, expr });
export const block = (type: string, labels: string[], body: Item[]): Block => ({ kind: 'block', type, labels, body });
export const comment = (text: string): Comment => ({ kind: 'comment', text });

/** A quoted HCL string; `${` and `%{` are escaped so a value is never read as a template. */
export function str(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, '$${')
    .replace(/%\{/g, '%%{');
  return `"${escaped}"`;
}

export const num = (n: number): string => String(n);
export const bool = (b: boolean): string => (b ? 'true' : 'false');
export const list = (items: string[]): string => `[${items.join(', ')}]`;
/** A reference such as `var.x` or `proxmox_vm_qemu.name`, written as is. */
export const ref = (path: string): string => path;

function writeBody(items: Item[], depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  let i = 0;
  let previous: 'attr' | 'block' | 'comment' | undefined;
  while (i < items.length) {
    const item = items[i]!;
    if (item.kind === 'attr') {
      // a run of attributes (comments inside it end the run, as in terraform fmt)
      const run: Attr[] = [];
      while (i < items.length && items[i]!.kind === 'attr') run.push(items[i++] as Attr);
      if (previous === 'block') out.push('');
      const width = Math.max(...run.map((a) => a.name.length));
      for (const a of run) out.push(`${pad}${a.name.padEnd(width)} = ${a.expr}`);
      previous = 'attr';
      continue;
    }
    if (item.kind === 'comment') {
      if (previous === 'block') out.push('');
      out.push(`${pad}# ${item.text}`);
      previous = 'comment';
      i++;
      continue;
    }
    if (previous === 'attr' || previous === 'block') out.push('');
    writeBlock(item, depth, out);
    previous = 'block';
    i++;
  }
}

function writeBlock(b: Block, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const head = [b.type, ...b.labels.map(str)].join(' ');
  if (b.body.length === 0) {
    out.push(`${pad}${head} {}`);
    return;
  }
  out.push(`${pad}${head} {`);
  writeBody(b.body, depth + 1, out);
  out.push(`${pad}}`);
}

/** A whole file: top-level blocks separated by one blank line, ending with a newline. */
export function writeFile(top: Item[]): string {
  const out: string[] = [];
  writeBody(top, 0, out);
  return `${out.join('\n')}\n`;
}
