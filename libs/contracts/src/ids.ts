/** Crockford base 32, as a ULID writes it: 26 characters, no I, L, O or U. */
const ulid = '[0-9A-HJKMNP-TV-Z]{26}';

/**
 * The formats of the ids Conveyor hands out. An id is checked against its format before it is used
 * in any lookup, so that a malformed one never reaches a Redis key (it reads as `404`).
 */
export const idPatterns = {
  execution: new RegExp(`^exec_${ulid}$`),
  schedule: new RegExp(`^sch_${ulid}$`),
  apiKey: new RegExp(`^key_${ulid}$`),
} as const;

export type IdKind = keyof typeof idPatterns;

export function isId(kind: IdKind, value: unknown): boolean {
  return typeof value === 'string' && idPatterns[kind].test(value);
}

/** An id as an error message shows it: a long (malformed) one is cut. */
export function shownId(id: string): string {
  return id.length > 40 ? `${id.slice(0, 40)}…` : id;
}

/** Idempotency keys with this prefix belong to schedule ticks (`sch:<id>:<tick time>`): users may not send them. */
export const scheduleTickKeyPrefix = 'sch:';
