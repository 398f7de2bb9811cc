// class-transformer's @Type and the opaque-field check read design-time types through reflect-metadata.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { isPlainObject, jsonShapeProblems } from './json-shape.js';
import { cacheRuleLookups } from './rule-cache.js';

import type { FieldError, Validated } from './validated.js';

cacheRuleLookups(getMetadataStorage());

/**
 * Validates a plain value against a class-validator class, rejecting unknown fields,
 * and names every bad field by its full path under `pathPrefix`.
 */
export function validateAs<T extends object>(cls: new () => T, plain: unknown, pathPrefix = ''): Validated<T> {
  if (!isPlainObject(plain)) {
    return { ok: false, errors: [{ path: pathPrefix || '(body)', message: 'must be an object' }] };
  }
  const undeclared: FieldError[] = [];
  const instance = toInstance(cls, declaredOnly(cls, plain, pathPrefix, undeclared));
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  if (errors.length === 0 && undeclared.length === 0) return { ok: true, value: instance };
  return { ok: false, errors: [...flattenValidationErrors(errors, pathPrefix), ...undeclared] };
}

const declaredKeyCache = new WeakMap<Function, ReadonlySet<string>>();

/** The properties a class declares (with any class-validator decorator): what `whitelist` keeps. */
function declaredKeys(cls: Function): ReadonlySet<string> {
  let keys = declaredKeyCache.get(cls);
  if (!keys) {
    keys = new Set(getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false).map((metadata) => metadata.propertyName));
    declaredKeyCache.set(cls, keys);
  }
  return keys;
}

/**
 * The value with only the keys its class declares, at every level a declared class reaches, and a
 * `should not exist` for each other key. A linear pass: class-transformer's own handling of keys grows
 * with the square of an object's width (a 1 MiB body of 90,000 keys would hold the event loop for seconds).
 */
function declaredOnly(cls: Function, plain: Record<string, unknown>, path: string, undeclared: FieldError[]): Record<string, unknown> {
  const keys = declaredKeys(cls);
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(plain)) {
    if (!keys.has(key)) {
      undeclared.push({ path: joinPath(path, key), message: 'should not exist' });
      continue;
    }
    const value = plain[key];
    const type: unknown = Reflect.getMetadata('design:type', cls.prototype, key);
    const nested = typeof type === 'function' && type !== Object && declaredKeys(type).size > 0;
    kept[key] = nested && isPlainObject(value) ? declaredOnly(type as Function, value, joinPath(path, key), undeclared) : value;
  }
  return kept;
}

/**
 * `validateAs` for data read back from Redis (job data, stored definitions), which may hold anything:
 * the API's shape rules (nesting, prototype keys) hold for it too, and where class-transformer still
 * throws, the value is reported invalid instead.
 */
export function validateStored<T extends object>(cls: new () => T, plain: unknown, pathPrefix = ''): Validated<T> {
  const shape = jsonShapeProblems(plain, { pathPrefix });
  if (shape.length > 0) return { ok: false, errors: shape };
  try {
    return validateAs(cls, plain, pathPrefix);
  } catch (error) {
    return { ok: false, errors: [{ path: pathPrefix || '(value)', message: `could not be checked (${(error as Error).message})` }] };
  }
}

/**
 * `plainToInstance`, except that a field declared as a plain object (`unknown`, `Record<…>`) keeps the
 * value as sent: class-transformer would copy it key by key, the larger part of validating a wide input.
 */
function toInstance<T extends object>(cls: new () => T, plain: Record<string, unknown>): T {
  const opaque = Object.keys(plain).filter(
    (key) => typeof plain[key] === 'object' && plain[key] !== null && Reflect.getMetadata('design:type', cls.prototype, key) === Object,
  );
  if (opaque.length === 0) return plainToInstance(cls, plain);
  const instance = plainToInstance(cls, { ...plain, ...Object.fromEntries(opaque.map((key) => [key, {}])) }) as Record<string, unknown>;
  for (const key of opaque) instance[key] = plain[key];
  return instance as T;
}

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const path = joinPath(prefix, error.property);
    // A missing field breaks every rule it has: saying it is missing is the one useful message.
    const own = error.value === undefined && error.constraints ? ['is required'] : Object.values(error.constraints ?? {}).map((message) => stripProperty(message, error.property));
    const here = own.length > 0 ? [{ path, message: own.join('; ') }] : [];
    return [...here, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

function joinPath(prefix: string, property: string): string {
  if (/^\d+$/.test(property)) return `${prefix}[${property}]`;
  return prefix ? `${prefix}.${property}` : property;
}

// class-validator starts its messages with the property name, which the path already says.
function stripProperty(message: string, property: string): string {
  if (message.startsWith('property ')) return message.replace(`property ${property} `, '');
  if (message.startsWith(`${property} `)) return message.slice(property.length + 1);
  if (message.startsWith(`each value in ${property} `)) return `each value ${message.slice(`each value in ${property} `.length)}`;
  return message;
}
