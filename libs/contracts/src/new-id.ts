import { monotonicFactory } from 'ulid';
import { idPrefixes, type IdKind } from './ids.js';

/**
 * ulid asks its PRNG for one number per character of an id's random part, and its default PRNG makes
 * a `crypto.getRandomValues` call for each: about 130 µs an id in a new millisecond, most of a
 * submit's id cost. This one hands out bytes of a 4 KiB pool instead (byte / 256: each of the 32
 * characters equally likely).
 */
function pooledPrng(): () => number {
  const pool = new Uint8Array(4096);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    return pool[at++] / 256;
  };
}

const nextUlid = monotonicFactory(pooledPrng());

/** A new id of this kind (`exec_…`, `sch_…`, `key_…`); ids made by one process sort in the order made. */
export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}${nextUlid()}`;
}
