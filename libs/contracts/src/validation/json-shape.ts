import { limits } from '../limits.js';
import type { FieldError } from './validated.js';

/** A JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys that reach an object's prototype when a value is copied or transformed: refused wherever they appear. */
export const prototypeKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

interface Visit {
  value: unknown;
  parent: Visit | null;
  key: string | number;
  depth: number;
}

/**
 * What is wrong with the shape of a parsed JSON value: nesting deeper than `maxDepth` levels (the
 * top-level object or array is level 1), or prototype keys, each named by its path
 * (`input.payload.constructor`). Walks with its own stack, so no depth can overflow the call stack,
 * and never below `maxDepth`; stops after `max` problems.
 */
export function jsonShapeProblems(value: unknown, options: { pathPrefix?: string; maxDepth?: number; max?: number } = {}): FieldError[] {
  const { pathPrefix = '', maxDepth = limits.jsonDepth, max = limits.errorDetails } = options;
  const problems: FieldError[] = [];
  const pending: Visit[] = [{ value, parent: null, key: '', depth: 1 }];
  while (pending.length > 0 && problems.length < max) {
    const visit = pending.pop()!;
    const { value: here, depth } = visit;
    // Binary data (a socket.io attachment) holds no keys: a leaf, however long.
    if (here === null || typeof here !== 'object' || ArrayBuffer.isView(here) || here instanceof ArrayBuffer) continue;
    if (depth > maxDepth) return [{ path: pathOf(visit, pathPrefix), message: `is nested deeper than ${maxDepth} levels` }];
    if (Array.isArray(here)) {
      for (let i = here.length - 1; i >= 0; i--) pending.push({ value: here[i], parent: visit, key: i, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(here)) {
      const child: Visit = { value: (here as Record<string, unknown>)[key], parent: visit, key, depth: depth + 1 };
      if (prototypeKeys.has(key)) problems.push({ path: pathOf(child, pathPrefix), message: 'is a reserved name: __proto__, constructor and prototype are refused' });
      else pending.push(child);
    }
  }
  return problems;
}

// Paths are built only for problems: a wide body would otherwise cost a string per value.
function pathOf(visit: Visit, prefix: string): string {
  const keys: (string | number)[] = [];
  for (let at: Visit | null = visit; at?.parent; at = at.parent) keys.push(at.key);
  const path = keys.reverse().reduce<string>((joined, key) => (typeof key === 'number' ? `${joined}[${key}]` : joined ? `${joined}.${key}` : key), prefix);
  return path || '(body)';
}
