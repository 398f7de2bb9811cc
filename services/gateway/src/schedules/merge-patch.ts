import { isPlainObject } from '@conveyor/contracts';

/**
 * RFC 7396 JSON merge patch: an object patch merges key by key, recursively, `null` removing a key;
 * any other patch (an array, a string …) replaces the target whole.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const merged: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = applyMergePatch(merged[key], value);
  }
  return merged;
}
