import type { Redis } from 'ioredis';
import { defineConveyorScripts } from './scripts.js';

/** A page of a capped event log: events with `seq > since`, and the oldest seq the log still holds (0: empty). */
export interface EventLogPage<E> {
  events: E[];
  firstSeq: number;
}

/** Reads an event log (written by the event scripts), in one atomic step so that a trim cannot shift the page. */
export async function readEventLog<E>(redis: Redis, key: string, since: number, limit: number, decode: (entry: string) => E): Promise<EventLogPage<E>> {
  const [firstSeq, events] = await defineConveyorScripts(redis).conveyorReadEventLog(key, since, limit);
  return { events: events.map((entry) => decode(entry)), firstSeq };
}
