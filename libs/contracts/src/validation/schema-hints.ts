import { JSONSchema } from 'class-validator-jsonschema';

/*
 * The JSON Schema of a property, where class-validator-jsonschema cannot read it from the validators
 * (a custom validator, a union type, `null` allowed): what `/v1/tasks` and the OpenAPI document show.
 */

type PropertySchema = ReturnType<Extract<Parameters<typeof JSONSchema>[0], Function>>;

/** This schema instead of the one read from the validators. */
export const SchemaHint = (schema: object) => JSONSchema(() => schema as PropertySchema);

/** The schema read from the validators, or `null` (a limit that `null` clears). */
export const OrNull = () => JSONSchema((source) => ({ ...source, type: [source.type, 'null'] }) as PropertySchema);

/** The schema read from the validators, without the `$ref` to its design type a custom validator adds (on an array, `Array`). */
export const OwnSchema = () => JSONSchema((read) => Object.fromEntries(Object.entries(read).filter(([key]) => key !== '$ref')) as PropertySchema);
