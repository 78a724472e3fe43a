/**
 * HCL through HashiCorp's own parser (`@cdktf/hcl2json`: the Go HCL library built to WebAssembly), and a
 * deliberately small evaluator on top: literals, lists and maps of them, `var.x`, `local.x`,
 * `count.index`/`each.*` where known, string templates made of those, and `toset`/`tolist`/`tomap` (which
 * change nothing labwatch compares). Anything else (other function calls, operators, conditionals, other
 * resources, data sources, module outputs) becomes `{ unknown: why }`, naming what labwatch would have had to know.
 *
 * The work is bounded: locals are resolved once per module, and a `Budget` caps the evaluations, the time
 * and honours cancellation, so a hostile or pathological file cannot hold the reader.
 */
import { getExpressionAst, parse } from '@cdktf/hcl2json';
import { isUnknown, type Unknown } from './model.ts';

/** A resolved value: JSON-like, where any part may be unknown. */
export type Resolved = string | number | boolean | null | Unknown | Resolved[] | { [key: string]: Resolved };

/** Thrown when reading took too much work or time, or was cancelled; the message says which, for people. */
export class BudgetExceeded extends Error {}

/** Evaluations and elapsed time one readCode call may spend, and its cancellation. */
export class Budget {
  private steps = 0;
  private readonly deadline: number;
  constructor(readonly maxSteps = 200_000, readonly maxMs = 20_000, readonly signal?: AbortSignal) {
    this.deadline = Date.now() + maxMs;
  }

  tick(): void {
    this.steps += 1;
    if (this.signal?.aborted) throw new BudgetExceeded('reading was cancelled');
    if (this.steps > this.maxSteps) throw new BudgetExceeded(`evaluating the expressions took more than ${this.maxSteps} steps`);
    if ((this.steps & 255) === 0 && Date.now() > this.deadline) throw new BudgetExceeded(`evaluating the expressions took more than ${this.maxMs / 1000} s`);
  }
}

/** What names mean in one module: variables (already merged with .tfvars), raw locals, per-instance names. */
export interface Scope {
  vars: Map<string, Resolved>;
  locals: Map<string, unknown>;
  /** count.index, each.key, each.value for the instance being read */
  instance?: Map<string, Resolved>;
  /** locals being resolved, to report a cycle instead of looping */
  resolving?: Set<string>;
  /** locals already resolved in this module (they cannot depend on an instance), shared by every instance */
  resolved?: Map<string, Resolved>;
  budget?: Budget;
}

/** Parses one file; throws with the parser's own message (file:line,col: summary; detail). */
export async function parseHcl(file: string, text: string): Promise<Record<string, unknown>> {
  return (await parse(file, text)) as Record<string, unknown>;
}

const TEMPLATE_DELIMITER = 'LABWATCH_HCL_TEMPLATE';

type Node = { type: string; children?: Node[]; meta?: Record<string, unknown> };

/** Parsed expression texts: the same template recurs in every count/for_each instance. */
const AST_CACHE = new Map<string, Node | null | Error>();
const AST_CACHE_MAX = 2000;

async function astOf(text: string): Promise<Node | null> {
  const hit = AST_CACHE.get(text);
  if (hit instanceof Error) throw hit;
  if (hit !== undefined) return structuredClone(hit);
  let ast: Node | null | Error;
  try {
    ast = (await getExpressionAst('expression.tf', `<<${TEMPLATE_DELIMITER}\n${text}\n${TEMPLATE_DELIMITER}\n`)) as Node | null;
  } catch (err) {
    ast = err as Error;
  }
  if (AST_CACHE.size >= AST_CACHE_MAX) AST_CACHE.clear();
  AST_CACHE.set(text, ast);
  if (ast instanceof Error) throw ast;
  return structuredClone(ast);
}

/** Resolves a value as hcl2json gives it: plain JSON, with expressions left as "${…}" strings. */
export async function resolve(raw: unknown, scope: Scope): Promise<Resolved> {
  scope.budget?.tick();
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') return resolveString(raw, scope);
  if (Array.isArray(raw)) {
    const out: Resolved[] = [];
    for (const item of raw) out.push(await resolve(item, scope));
    return out;
  }
  if (typeof raw === 'object') {
    const out: Record<string, Resolved> = {};
    for (const [key, value] of Object.entries(raw)) out[key] = await resolve(value, scope);
    return out;
  }
  return { unknown: `a value of type ${typeof raw}` };
}

const hasTemplate = (s: string) => /(^|[^$])\$\{/.test(s) || /(^|[^%])%\{/.test(s);
const unescape = (s: string) => s.replaceAll('$${', '${').replaceAll('%%{', '%{');

async function resolveString(text: string, scope: Scope): Promise<Resolved> {
  if (!hasTemplate(text)) return unescape(text);
  // Re-read the string as a heredoc template: no quoting to redo, and the parser splits literals from expressions.
  let ast: Node | null;
  try {
    ast = await astOf(text);
  } catch (err) {
    return { unknown: `the expression ${text} could not be parsed: ${(err as Error).message.split('\n')[0]}` };
  }
  if (!ast) return { unknown: `the expression ${text} could not be parsed` };
  const parts = ast.children ?? [];
  // The heredoc adds one trailing newline of its own.
  const last = parts.at(-1);
  if (last?.type === 'literalValue' && String(last.meta?.value).endsWith('\n')) {
    const trimmed = String(last.meta!.value).slice(0, -1);
    if (trimmed === '') parts.pop();
    else last.meta = { ...last.meta, value: trimmed };
  }
  if (ast.type === 'templateWrap' || (parts.length === 1 && parts[0]!.type !== 'literalValue')) {
    return evalNode(parts[0]!, scope);
  }
  return concat(parts, scope, text);
}

/** A template's parts joined into one string; unknown when any part is. */
async function concat(parts: Node[], scope: Scope, text: string): Promise<Resolved> {
  let out = '';
  for (const part of parts) {
    const value = part.type === 'literalValue' ? unescape(String(part.meta?.value ?? '')) : await evalNode(part, scope);
    if (isUnknown(value)) return value;
    if (typeof value === 'object' && value !== null) return { unknown: `${text} puts a list or map into a string` };
    out += value === null ? '' : String(value);
  }
  return out;
}

const source = (node: Node) => String(node.meta?.value ?? node.meta?.fullAccessor ?? node.type);

/** Conversions that leave the values as they are (for_each needs a set or map; labwatch reads both alike). */
const IDENTITY_FUNCTIONS = new Set(['toset', 'tolist', 'tomap']);

async function evalNode(node: Node, scope: Scope): Promise<Resolved> {
  scope.budget?.tick();
  switch (node.type) {
    case 'literalValue': {
      const { type, value } = node.meta as { type: string; value: string };
      if (type === 'number') return Number(value);
      if (type === 'bool') return value === 'true';
      if (type === 'null') return null;
      return unescape(value);
    }
    case 'scopeTraversal':
      return traverse(node, scope);
    case 'template': {
      const parts = node.children ?? [];
      return parts.length === 1 ? evalNode(parts[0]!, scope) : concat(parts, scope, source(node));
    }
    case 'templateWrap':
      return resolveString(`\${${source(node)}}`, scope);
    case 'tuple': {
      const out: Resolved[] = [];
      for (const child of node.children ?? []) out.push(await evalNode(child, scope));
      return out;
    }
    case 'object':
      return evalObject(node, scope);
    case 'function': {
      const name = String(node.meta?.name);
      const args = node.children ?? [];
      if (IDENTITY_FUNCTIONS.has(name) && args.length === 1) {
        const value = await evalNode(args[0]!, scope);
        if (isUnknown(value)) return { unknown: `${source(node)}: ${value.unknown}` };
        return name === 'toset' && Array.isArray(value) ? dedupe(value) : value;
      }
      return { unknown: `${source(node)} calls the function ${name}(), which labwatch does not evaluate` };
    }
    default:
      return { unknown: `${source(node)} is an expression (${node.type}) labwatch does not evaluate` };
  }
}

/** `{ a = 1, "b" = x }`: the parser gives key and value nodes in turn, and the keys as written in meta.items. */
async function evalObject(node: Node, scope: Scope): Promise<Resolved> {
  const keys = Object.keys((node.meta?.items ?? {}) as Record<string, unknown>);
  const children = node.children ?? [];
  if (keys.length * 2 !== children.length) return { unknown: `${source(node)} is a map labwatch cannot read` };
  const out: Record<string, Resolved> = {};
  for (const [i, key] of keys.entries()) out[key.replace(/^"(.*)"$/, '$1')] = await evalNode(children[i * 2 + 1]!, scope);
  return out;
}

function dedupe(values: Resolved[]): Resolved[] {
  const seen = new Set<string>();
  return values.filter((v) => !seen.has(JSON.stringify(v)) && !!seen.add(JSON.stringify(v)));
}

async function traverse(node: Node, scope: Scope): Promise<Resolved> {
  const accessor = String(node.meta?.fullAccessor ?? '');
  const steps = ((node.meta?.traversal ?? []) as { type: string; segment: string }[]).map((t) =>
    t.type === 'indexTraversal' ? JSON.parse(t.segment) as string | number : t.segment,
  );
  const [root, name, ...rest] = steps;
  let value: Resolved;
  if (root === 'var' && typeof name === 'string') {
    value = scope.vars.has(name) ? scope.vars.get(name)! : { unknown: `var.${name} is not declared in this module` };
  } else if (root === 'local' && typeof name === 'string') {
    value = await resolveLocal(name, scope);
  } else if ((root === 'count' || root === 'each') && typeof name === 'string') {
    const key = `${root}.${name}`;
    value = scope.instance?.get(key) ?? { unknown: `${accessor} is used outside a resource with ${root === 'count' ? 'count' : 'for_each'}` };
  } else if (root === 'data') {
    return { unknown: `${accessor} comes from a data source, known only when Terraform reads it` };
  } else if (root === 'module') {
    return { unknown: `${accessor} is a module output, known only after Terraform applies that module` };
  } else if (root === 'self' || root === 'path' || root === 'terraform') {
    return { unknown: `${accessor} is known only while Terraform runs` };
  } else {
    return { unknown: `${accessor} refers to another resource, known only after Terraform applies it` };
  }
  for (const step of rest) {
    if (isUnknown(value)) return value;
    if (Array.isArray(value) && typeof step === 'number') value = value[step] ?? { unknown: `${accessor}: no element ${step}` };
    else if (value && typeof value === 'object' && !Array.isArray(value)) value = (value as Record<string, Resolved>)[String(step)] ?? { unknown: `${accessor}: no key ${String(step)}` };
    else return { unknown: `${accessor}: cannot look up ${String(step)} in ${JSON.stringify(value)}` };
  }
  return value;
}

async function resolveLocal(name: string, scope: Scope): Promise<Resolved> {
  if (!scope.locals.has(name)) return { unknown: `local.${name} is not defined in this module` };
  const done = scope.resolved?.get(name);
  if (done !== undefined) return done;
  const resolving = scope.resolving ?? new Set<string>();
  if (resolving.has(name)) return { unknown: `local.${name} refers to itself` };
  // locals see no count.index / each: they are the same for every instance
  const value = await resolve(scope.locals.get(name), { ...scope, instance: undefined, resolving: new Set([...resolving, name]) });
  const out = isUnknown(value) ? { unknown: `local.${name}: ${value.unknown}` } : value;
  // a value found while another local was mid-resolution may be a cycle's "refers to itself": keep only clean ones
  if (resolving.size === 0 || !isUnknown(out)) scope.resolved?.set(name, out);
  return out;
}
