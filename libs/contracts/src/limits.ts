/** Size limits of the public contract. */
export const limits = {
  requestBodyBytes: 1024 * 1024,
  payloadBytes: 256 * 1024,
  logLineBytes: 8 * 1024,
  tags: 20,
  tagLength: 64,
  batchSize: 1000,
  listDefault: 50,
  listMax: 500,
} as const;

/** Tenant names: also used in keys and rooms. */
export const tenantPattern = /^[a-z0-9-]{1,32}$/;
export const defaultTenant = 'default';

/** Ids: a kind's prefix and a ULID (Crockford base 32). Checked before an id reaches a key name. */
export const executionIdPattern = /^exec_[0-9A-HJKMNP-TV-Z]{26}$/;
export const scheduleIdPattern = /^sch_[0-9A-HJKMNP-TV-Z]{26}$/;
