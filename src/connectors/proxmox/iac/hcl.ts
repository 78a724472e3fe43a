/**
 * HCL through HashiCorp's own parser (`@cdktf/hcl2json`: the Go HCL library built to WebAssembly), and a
 * deliberately small evaluator on top: literals, `var.x`, `local.x`, `count.index`/`each.*` where known, and
 * string templates made of those. Anything else (function calls, operators, conditionals, other resources,
 * data sources, module outputs) becomes `{ unknown: why }`, naming what labwatch would have had to know.
 */
import { getExpressionAst, parse } from '@cdktf/hcl2json';
import { isUnknown, type Unknown } from './model.ts';

/** A resolved value: JSON-like, where any part may be unknown. */
export type Resolved = string | number | boolean | null | Unknown | Resolved[] | { [key: string]: Resolved };

/** What names mean in one module: variables (already merged with .tfvars), raw locals, per-instance names. */
export interface Scope {
  vars: Map<string, Resolved>;
  locals: Map<string, unknown>;
  /** count.index, each.key, each.value for the instance being read */
  instance?: Map<string, Resolved>;
  /** locals being resolved, to report a cycle instead of looping */
  resolving?: Set<string>;
}

/** Parses one file; throws with the parser's own message (file:line,col: summary; detail). */
export async function parseHcl(file: string, text: string): Promise<Record<string, unknown>> {
  return (await parse(file, text)) as Record<string, unknown>;
}

const TEMPLATE_DELIMITER = 'LABWATCH_HCL_TEMPLATE';

type Node = { type: string; children?: Node[]; meta?: Record<string, unknown> };

/** Resolves a value as hcl2json gives it: plain JSON, with expressions left as "${…}" strings. */
export async function resolve(raw: unknown, scope: Scope): Promise<Resolved> {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') return resolveString(raw, scope);
  if (Array.isArray(raw)) return Promise.all(raw.map((item) => resolve(item, scope)));
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
    ast = (await getExpressionAst('expression.tf', `<<${TEMPLATE_DELIMITER}\n${text}\n${TEMPLATE_DELIMITER}\n`)) as Node | null;
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

async function evalNode(node: Node, scope: Scope): Promise<Resolved> {
  switch (node.type) {
    case 'literalValue': {
      const { type, value } = node.meta as { type: string; value: string };
      if (type === 'number') return Number(value);
      if (type === 'bool') return value === 'true';
      return unescape(value);
    }
    case 'scopeTraversal':
      return traverse(node, scope);
    case 'template':
    case 'templateWrap':
      return resolveString(`\${${source(node)}}`, scope);
    case 'function':
      return { unknown: `${source(node)} calls the function ${String(node.meta?.name)}(), which labwatch does not evaluate` };
    default:
      return { unknown: `${source(node)} is an expression (${node.type}) labwatch does not evaluate` };
  }
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
  const rest2 = root === 'var' || root === 'local' || root === 'count' || root === 'each' ? rest : [];
  for (const step of rest2) {
    if (isUnknown(value)) return value;
    if (Array.isArray(value) && typeof step === 'number') value = value[step] ?? { unknown: `${accessor}: no element ${step}` };
    else if (value && typeof value === 'object' && !Array.isArray(value)) value = (value as Record<string, Resolved>)[String(step)] ?? { unknown: `${accessor}: no key ${String(step)}` };
    else return { unknown: `${accessor}: cannot look up ${String(step)} in ${JSON.stringify(value)}` };
  }
  return value;
}

async function resolveLocal(name: string, scope: Scope): Promise<Resolved> {
  if (!scope.locals.has(name)) return { unknown: `local.${name} is not defined in this module` };
  const resolving = scope.resolving ?? new Set<string>();
  if (resolving.has(name)) return { unknown: `local.${name} refers to itself` };
  const value = await resolve(scope.locals.get(name), { ...scope, resolving: new Set([...resolving, name]) });
  return isUnknown(value) ? { unknown: `local.${name}: ${value.unknown}` } : value;
}
