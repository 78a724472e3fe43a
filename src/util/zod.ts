/** zod issues in words a person can act on: `alerts[0].labels: missing; expected an object`. */
import type * as z from 'zod';

export function issuePath(path: PropertyKey[]): string {
  return path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');
}

export function issueMessage(issue: z.core.$ZodIssue): string {
  let msg = issue.message.replace(/^Invalid (input|option): /, '');
  if (issue.code === 'invalid_type' && /, received undefined$/.test(msg)) msg = `missing; ${msg.replace(/, received undefined$/, '')}`;
  else if (issue.code === 'invalid_format' || issue.code === 'custom') msg = `expected ${msg}`;
  return msg;
}
