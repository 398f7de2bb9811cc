import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';

export type Schema = SchemaObject | ReferenceObject;

/** A property its type may omit: documented, not required. */
export interface Optional {
  optional: Schema;
}

/**
 * The schema of each property of `T`, every property named once (a missing or extra one does not
 * compile), those `T` may omit wrapped in `optional()` (and only those): the schema follows the
 * interface, so that the two cannot drift apart silently.
 */
export type PropertiesOf<T> = { [K in keyof T]-?: object extends Pick<T, K> ? Optional : Schema };

/** A closed object schema of `T`: an undocumented property in an answer is a mismatch. */
export function objectOf<T>(properties: PropertiesOf<T>, description?: string): SchemaObject {
  const entries = Object.entries<Schema | Optional>(properties);
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties: Object.fromEntries(entries.map(([name, schema]) => [name, 'optional' in schema ? schema.optional : schema])),
    required: entries.filter(([, schema]) => !('optional' in schema)).map(([name]) => name),
    additionalProperties: false,
  };
}

export const optional = (schema: Schema): Optional => ({ optional: schema });
export const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });
export const string = (description?: string): SchemaObject => ({ type: 'string', ...(description ? { description } : {}) });
export const dateTime = (): SchemaObject => ({ type: 'string', format: 'date-time' });
export const integer = (minimum?: number): SchemaObject => ({ type: 'integer', ...(minimum === undefined ? {} : { minimum }) });
export const number = (): SchemaObject => ({ type: 'number' });
export const boolean = (): SchemaObject => ({ type: 'boolean' });
export const oneOf = (...values: readonly (string | number | boolean)[]): SchemaObject => ({ enum: [...values] });
export const arrayOf = (items: Schema): SchemaObject => ({ type: 'array', items });
/** Any JSON value (a task's input or result). */
export const anyValue = (description?: string): SchemaObject => (description ? { description } : {});
/** An object whose keys are not fixed. */
export const mapOf = (values: Schema): SchemaObject => ({ type: 'object', additionalProperties: values });

/** The schema, or `null` (OpenAPI 3.1: a type list, else `anyOf`). */
export function nullable(schema: Schema): SchemaObject {
  if ('$ref' in schema) return { anyOf: [schema, { type: 'null' }] };
  if (schema.enum) return { ...schema, enum: [...schema.enum, null] };
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}
