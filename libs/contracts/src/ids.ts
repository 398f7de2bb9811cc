/** Crockford base 32, as a ULID writes it: no I, L, O or U. */
export const ulidAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID: 26 of those characters. */
const ulid = `[${ulidAlphabet}]{26}`;

/** Each kind of id Conveyor hands out: a prefix, then a ULID. */
export const idPrefixes = { execution: 'exec_', schedule: 'sch_', apiKey: 'key_', hook: 'hook_', webhook: 'whk_' } as const;

export type IdKind = keyof typeof idPrefixes;

/**
 * The formats of the ids Conveyor hands out. An id is checked against its format before it is used
 * in any lookup, so that a malformed one never reaches a Redis key (it reads as `404`).
 */
export const idPatterns = Object.fromEntries(Object.entries(idPrefixes).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}${ulid}$`)])) as Record<
  IdKind,
  RegExp
>;

export function isId(kind: IdKind, value: unknown): boolean {
  return typeof value === 'string' && idPatterns[kind].test(value);
}

/** An id as an error message shows it: a long (malformed) one is cut. */
export function shownId(id: string): string {
  return id.length > 40 ? `${id.slice(0, 40)}…` : id;
}

/** Idempotency keys with this prefix belong to schedule ticks (`sch:<id>:<tick time>`): users may not send them. */
export const scheduleTickKeyPrefix = 'sch:';
