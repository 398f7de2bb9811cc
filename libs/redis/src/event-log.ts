import type { Redis } from 'ioredis';

/** A page of a capped event log: events with `seq > since`, and the oldest seq the log still holds (0: empty). */
export interface EventLogPage<E> {
  events: E[];
  firstSeq: number;
}

/** Reads an event log (a stream whose entry ids are `<seq>-0`, written by the event script). */
export async function readEventLog<E>(redis: Redis, key: string, since: number, limit: number, decode: (entry: string) => E): Promise<EventLogPage<E>> {
  const [range, first] = await Promise.all([
    redis.xrange(key, `(${since}-0`, '+', 'COUNT', limit),
    redis.xrange(key, '-', '+', 'COUNT', 1),
  ]);
  const firstSeq = first.length > 0 ? Number(first[0][0].split('-')[0]) : 0;
  return { events: range.map(([, fields]) => decode(fields[1])), firstSeq };
}
