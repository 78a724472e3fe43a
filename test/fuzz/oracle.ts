/**
 * What counts as a defect when a parser meets bad input. Its contract: any input yields a value,
 * or a CLEAR error — an instance of the parser's own error class whose message says what failed.
 * A defect is anything else:
 * - a crash: a TypeError/RangeError/… from inside the parser, or an error of another class;
 * - an error without words, or one that echoes the input wholesale (a 1 MB message per poll in the log);
 * - prototype pollution: Object.prototype gained a key, or an object in the value has another prototype
 *   than a plain object's, an array's or a Date's (a `__proto__` key that became a prototype);
 * - a value that cannot be stored: JSON.stringify throws (a cycle, a BigInt);
 * - a hang: one input taking more than `slowMs` of CPU.
 */

export type Outcome = { kind: 'value' } | { kind: 'error' } | { kind: 'defect'; why: string };

export interface Target<I = string> {
  name: string;
  /** runs the parser (and what the real path does with its value next) */
  run(input: I): unknown | Promise<unknown>;
  /** the parser's own error classes */
  errors: (abstract new (...a: never[]) => Error)[];
  /** longest error message that is not an echo of the input (default MAX_MESSAGE) */
  maxMessage?: number;
  /** a defect the value shows, in words (e.g. content that came in under `__proto__`) */
  check?: (value: unknown) => string | undefined;
}

/** An error message longer than this echoes input instead of naming it. */
export const MAX_MESSAGE = 16_384;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const ALLOWED_PROTOS = new Set<object | null>([Object.prototype, Array.prototype, Date.prototype, Map.prototype, Set.prototype, null]);

/** The first object inside `v` whose prototype a parsed value should never have, as a path. */
export function foreignPrototype(v: unknown, path = '$', seen = new Set<object>()): string | undefined {
  const stack: [unknown, string][] = [[v, path]];
  while (stack.length) {
    const [x, p] = stack.pop()!;
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    if (x instanceof RegExp || ArrayBuffer.isView(x)) continue;
    if (!ALLOWED_PROTOS.has(Object.getPrototypeOf(x))) return p;
    const entries = x instanceof Map ? [...x.entries()] : Object.entries(x);
    for (const [k, y] of entries) stack.push([y, `${p}.${String(k)}`]);
  }
  return undefined;
}

const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).join(',');
const BASELINE = protoKeys();

/** Judges one run of a target on one input. */
export async function judge<I>(t: Target<I>, input: I, slowMs = 2000): Promise<Outcome> {
  const t0 = cpuMs();
  let value: unknown;
  let error: unknown;
  let threw = false;
  try {
    value = await t.run(input);
  } catch (e) {
    threw = true;
    error = e;
  }
  const ms = cpuMs() - t0;
  if (protoKeys() !== BASELINE) return { kind: 'defect', why: `Object.prototype changed: ${protoKeys()}` };
  if (ms > slowMs) return { kind: 'defect', why: `took ${Math.round(ms)} ms of CPU` };
  if (threw) {
    const e = error as Error;
    if (!t.errors.some((c) => e instanceof c)) return { kind: 'defect', why: `crash: ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 300)}` };
    if (!e.message || e.message.trim() === '') return { kind: 'defect', why: `${e.name} without a message` };
    if (e.message.length > (t.maxMessage ?? MAX_MESSAGE)) return { kind: 'defect', why: `${e.name} message of ${e.message.length} characters: "${e.message.slice(0, 120)}…"` };
    return { kind: 'error' };
  }
  const foreign = foreignPrototype(value);
  if (foreign) return { kind: 'defect', why: `the value has an object with a foreign prototype at ${foreign}` };
  try {
    JSON.stringify(value);
  } catch (e) {
    return { kind: 'defect', why: `the value cannot be stored: ${(e as Error).message}` };
  }
  const wrong = t.check?.(value);
  if (wrong) return { kind: 'defect', why: wrong };
  return { kind: 'value' };
}

/** Short text of an input for a failure message. */
export function show(input: unknown): string {
  const s = typeof input === 'string' ? input : JSON.stringify(input) ?? String(input);
  return s.length > 600 ? `${JSON.stringify(s.slice(0, 300))} … ${JSON.stringify(s.slice(-200))} (${s.length} chars)` : JSON.stringify(s);
}

/** How many inputs a property test tries (LABWATCH_FUZZ_RUNS), times `scale`. */
export function runs(scale = 1): number {
  const n = Number(process.env.LABWATCH_FUZZ_RUNS ?? 200);
  return Math.max(1, Math.round((Number.isFinite(n) && n > 0 ? n : 200) * scale));
}
