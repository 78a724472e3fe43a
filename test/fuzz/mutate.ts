/**
 * Bad input made from good input: fast-check arbitraries that take a REAL capture (a parsed JSON
 * answer or a text output) and damage it the ways the world does: keys dropped, types changed,
 * values made huge, negative, NaN-like or exotic unicode, `__proto__`/`constructor`/`prototype`
 * keys inserted as own keys, text cut at any point, lines duplicated or made 1 MB long, and bytes
 * that are not UTF-8 decoded the way the real exec and HTTP paths decode them (U+FFFD).
 *
 * Every mutation is a plain record of numbers and choices, so fast-check shrinks a failing input
 * to the smallest set of damages that still fails. Nothing here is a capture: it is what a test
 * does to one.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Keys JavaScript objects inherit, as data. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** Bytes that are not UTF-8 (a lone continuation byte, an overlong form, a cut 4-byte sequence, 0xFF). */
const INVALID_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80])];

/** `text` with invalid bytes put in at `at`, decoded as Node decodes a child's stdout or a request body. */
export function withInvalidUtf8(text: string, at: number, which: number): string {
  const buf = Buffer.from(text, 'utf8');
  const i = buf.length === 0 ? 0 : at % (buf.length + 1);
  return Buffer.concat([buf.subarray(0, i), INVALID_UTF8[which % INVALID_UTF8.length]!, buf.subarray(i)]).toString('utf8');
}

/** Strings no real field holds: huge, numeric-looking, NaN-like, control and astral characters, proto names. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '-', '0', '-1', '1e309', '-1e309', 'NaN', 'Infinity', '-Infinity', '0x1F', '1_000', '９', '½', 'null', 'undefined', 'true', '[object Object]'),
  fc.constantFrom(...PROTO_KEYS),
  fc.constantFrom('\u0000', '\u2028\u2029', '\r', '\t\t', '\uD800', '\uDFFF', '👩‍👩‍👧‍👦', 'Z\u0351\u0360\u0361', '\u202Eevil', 'ﬃ', 'İ'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 200_000 }).map((n) => '9'.repeat(n)), // a number wider than any double
  fc.nat({ max: 100_000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers no real counter holds. */
export const weirdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, -0, 0, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1e308, -1e308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A value of any JSON type, weird ones first; sometimes nested. */
export const weirdValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: weirdString },
  { weight: 3, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, [null], { $date: 1e300 }, { $date: -1 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
);

/** Every path to a value inside `doc` (the root is []), at most `max` of them, breadth first. */
function pathsOf(doc: Json, max = 4000): (string | number)[][] {
  const out: (string | number)[][] = [[]];
  for (let i = 0; i < out.length && out.length < max; i++) {
    const v = getAt(doc, out[i]!);
    if (Array.isArray(v)) v.forEach((_, k) => out.push([...out[i]!, k]));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.push([...out[i]!, k]);
  }
  return out;
}

function getAt(doc: Json, path: (string | number)[]): Json {
  let v: Json = doc;
  for (const k of path) v = (v as Record<string | number, Json>)[k]!;
  return v;
}

/** Sets an own key, even `__proto__`. */
function put(o: Record<string, Json>, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

export type JsonOp = 'drop' | 'replace' | 'stringify' | 'numberise' | 'proto' | 'duplicate' | 'wrap' | 'empty';
export interface JsonMutation {
  at: number;
  op: JsonOp;
  value: Json;
  key: string;
}

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<JsonOp>('drop', 'replace', 'replace', 'stringify', 'numberise', 'proto', 'duplicate', 'wrap', 'empty'),
  value: weirdValue,
  key: fc.oneof(fc.constantFrom(...PROTO_KEYS), weirdString.filter((s) => s.length < 64)),
});

/** Applies one damage to a deep copy of `doc`. */
export function applyJson(doc: Json, m: JsonMutation): Json {
  const paths = pathsOf(doc);
  const path = paths[m.at % paths.length]!;
  const old = getAt(doc, path);
  let next: Json;
  switch (m.op) {
    case 'drop':
      if (path.length === 0) return m.value;
      return setAt(doc, path, undefined);
    case 'replace':
      next = m.value;
      break;
    case 'stringify': // 5 → "5", {…} → "{…}"
      next = typeof old === 'string' ? old : JSON.stringify(old);
      break;
    case 'numberise': // "5" → 5, "x" → NaN → null in JSON, true → 1
      next = typeof old === 'number' ? -old : typeof old === 'object' && old !== null ? null : Number(old);
      if (!Number.isFinite(next)) next = null;
      break;
    case 'proto': {
      // an own `__proto__` (or `constructor`…) key holding a value that would change the object if it became its prototype
      const target = old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...old } : {};
      put(target, m.key, typeof m.value === 'object' && m.value !== null ? m.value : { polluted: m.value, state: 'FAULTED', status: 'firing' });
      next = target;
      break;
    }
    case 'duplicate':
      next = Array.isArray(old) ? [...old, ...old] : [old, old];
      break;
    case 'wrap':
      next = [old];
      break;
    case 'empty':
      next = Array.isArray(old) ? [] : typeof old === 'object' && old !== null ? {} : typeof old === 'string' ? '' : 0;
      break;
  }
  return setAt(doc, path, next);
}

/** A copy of `doc` with the value at `path` replaced (or removed, for undefined). Keys keep their order. */
function setAt(doc: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [k, ...rest] = path;
  if (Array.isArray(doc)) {
    const copy = doc.slice();
    if (rest.length) copy[k as number] = setAt(copy[k as number]!, rest, value);
    else if (value === undefined) copy.splice(k as number, 1);
    else copy[k as number] = value;
    return copy;
  }
  const copy: Record<string, Json> = {};
  for (const key of Object.keys(doc as object)) {
    const cur = (doc as Record<string, Json>)[key]!;
    if (key !== k) put(copy, key, cur);
    else if (rest.length) put(copy, key, setAt(cur, rest, value));
    else if (value !== undefined) put(copy, key, value);
  }
  return copy;
}

export type TextOp = 'cut' | 'dropLine' | 'dupLine' | 'swapLines' | 'longLine' | 'insert' | 'invalidUtf8' | 'crlf' | 'indent';
export interface TextMutation {
  at: number;
  op: TextOp;
  text: string;
  n: number;
}

const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<TextOp>('cut', 'dropLine', 'dupLine', 'swapLines', 'longLine', 'insert', 'insert', 'invalidUtf8', 'crlf', 'indent'),
  text: weirdString.filter((s) => s.length < 2000),
  n: fc.nat({ max: 1_000_000 }),
});

/** Applies one damage to a text output. */
export function applyText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const li = m.at % Math.max(lines.length, 1);
  switch (m.op) {
    case 'cut':
      return text.slice(0, m.at % (text.length + 1));
    case 'dropLine':
      return lines.filter((_, i) => i !== li).join('\n');
    case 'dupLine':
      return [...lines.slice(0, li + 1), ...Array<string>((m.n % 50) + 1).fill(lines[li] ?? ''), ...lines.slice(li + 1)].join('\n');
    case 'swapLines': {
      const lj = m.n % Math.max(lines.length, 1);
      const copy = lines.slice();
      [copy[li], copy[lj]] = [copy[lj]!, copy[li]!];
      return copy.join('\n');
    }
    case 'longLine': // a line (or a line's end) of up to 1 MB
      lines[li] = `${lines[li] ?? ''}${(m.text || 'x').repeat(Math.ceil((m.n + 1) / Math.max(m.text.length, 1)))}`.slice(0, 1_000_000);
      return lines.join('\n');
    case 'insert': {
      const i = m.at % (text.length + 1);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    case 'invalidUtf8':
      return withInvalidUtf8(text, m.at, m.n);
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'indent':
      lines[li] = `${' \t'.charAt(m.n % 2).repeat((m.n % 40) + 1)}${lines[li] ?? ''}`;
      return lines.join('\n');
  }
}

/** JSON text of a real document with 1–4 damages, sometimes then damaged as text too. */
export function mutatedJson(doc: Json): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(jsonMutation, { minLength: 1, maxLength: 4 }), fc.option(textMutation, { freq: 5 }))
    .map(([ms, tm]) => {
      const text = JSON.stringify(ms.reduce(applyJson, doc));
      return tm ? applyText(text, tm) : text;
    });
}

/** A real text output with 1–4 damages; long lines grow up to `maxLine` characters. */
export function mutatedText(text: string, maxLine = 1_000_000): fc.Arbitrary<string> {
  return fc.array(textMutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce((t, m) => applyText(t, { ...m, n: m.n % maxLine }), text));
}

/** 10,000-deep (and deeper) JSON: arrays, objects, and a real document with a deep value inside. */
export function deepJson(depth: number): string[] {
  return ['['.repeat(depth) + ']'.repeat(depth), '{"a":'.repeat(depth) + '1' + '}'.repeat(depth), '{"__proto__":'.repeat(depth) + '{}' + '}'.repeat(depth)];
}

/** Inputs for a JSON parser: the real documents as they are, mutated, deep ones, and junk. */
export function jsonInputs(docs: Json[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...docs.map((d) => JSON.stringify(d))) },
    { weight: 12, arbitrary: fc.constantFrom(...docs).chain(mutatedJson) },
    { weight: 1, arbitrary: fc.constantFrom(...deepJson(10_000), ...deepJson(100_000)) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  );
}

/** YAML a person (or a broken editor) can write that no loader should crash or hang on. */
export function yamlTraps(): string[] {
  const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) laughs.push(`l${i}: &l${i} [${Array<string>(9).fill(`*l${i - 1}`).join(', ')}]`);
  return [
    '__proto__:\n  host: injected',
    '  __proto__:\n    url: redis://injected:1',
    'constructor:\n  prototype:\n    polluted: 1',
    'loop: &loop [*loop]',
    'loop: &loop\n  self: *loop',
    laughs.join('\n'),
    ': '.repeat(20_000),
    '- '.repeat(20_000),
    '['.repeat(10_000),
    '\r'.repeat(100_000),
    'key: !!binary aGVsbG8=',
    'key: !!js/function "() => 1"',
    'when: !!str\n  - a',
  ];
}

/**
 * Inputs for a YAML file: the real files mutated as text, or with one of the traps put in at a line.
 * Long lines stay under 16 KB: the yaml library's time grows with the square of the syntax errors
 * on a line (`a: {}[][]…`: 2 s at 32 KB, 8 s at 64 KB; reported, not fixable here), which a file a
 * person writes does not reach, and which would make the run's length a matter of luck.
 */
export function yamlInputs(texts: string[]): fc.Arbitrary<string> {
  const trapped = fc.tuple(fc.constantFrom(...texts), fc.constantFrom(...yamlTraps()), fc.nat()).map(([t, trap, at]) => {
    const lines = t.split('\n');
    lines.splice(at % (lines.length + 1), 0, trap);
    return lines.join('\n');
  });
  return fc.oneof({ weight: 3, arbitrary: textInputs(texts, 16_000) }, { weight: 1, arbitrary: trapped });
}

/** Inputs for a text parser: the real outputs, mutated, and junk. */
export function textInputs(texts: string[], maxLine?: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...texts) },
    { weight: 12, arbitrary: fc.constantFrom(...texts).chain((t) => mutatedText(t, maxLine)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  );
}
