import { eventFormatVersion, type ConveyorEvent, type EventDataMap, type EventType } from './conveyor-event.js';

/*
 * The one encoder and decoder of events. An event is published as a route line, then a newline, then
 * its envelope's JSON. The route line holds only what the server set (type, queue, tenant, execution
 * and schedule ids) and is JSON itself, so a newline can only end it: monitors route on it, and
 * nothing inside an event's data can ever be taken for it. An execution's event is stored without
 * whom it is about (execution, schedule, queue, task, tenant: its record says it), which was about a
 * hundred bytes of each; a schedule's is stored whole, as are the events earlier versions stored.
 * An execution's completion is stored without its result, which its job keeps (BullMQ's
 * `returnvalue`, up to 256 KiB): a read puts it back.
 */

/** Who an event is about, as its publisher set it: what monitors route on. */
export interface EventRoute {
  type: EventType;
  queue: string;
  tenant: string;
  executionId: string | null;
  scheduleId: string | null;
}

/** An event's envelope without its `v`, `ts` and `seq`, which the encoder and the event script add. */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  queue: string;
  tenant: string;
  executionId?: string;
  scheduleId?: string;
  task?: string;
  data: EventDataMap[T];
}

/** A numbered event for the event script: its route, and its JSON cut where the script writes the `seq`. */
export interface NumberedEventParts {
  route: string;
  head: string;
  tail: string;
  /** The stored form of an execution's event: `storedHead + seq + storedTail`. */
  storedHead: string;
  storedTail: string;
}

/** The event whose stored form leaves out its data, which the execution's job keeps: its `result`. */
const keptByJob: EventType = 'execution.completed';

/** Whom an execution's event is about: what its stored form leaves out, and its record says. */
export type EventSubject = Pick<NewEvent, 'executionId' | 'scheduleId' | 'queue' | 'task' | 'tenant'>;

/** The envelope, with its fields always in the contract's order. */
export function eventEnvelope<T extends EventType>(event: NewEvent<T>, seq?: number, ts = new Date().toISOString()): ConveyorEvent<T> {
  const { type, executionId, scheduleId, queue, task, tenant, data } = event;
  return { v: eventFormatVersion, type, executionId, scheduleId, queue, task, tenant, seq, ts, data } as ConveyorEvent<T>;
}

/** The message that publishes an event (live-only events, and numbered ones once they have their `seq`). */
export function encodePublished(event: ConveyorEvent): string {
  return `${encodeRoute(event)}\n${JSON.stringify(event)}`;
}

/**
 * A numbered event in the parts the event script joins as `route + "\n" + head + seq + tail`
 * (published), `head + seq + tail` (a schedule's, stored) and `storedHead + seq + storedTail` (an
 * execution's, stored); no text is searched, so data cannot shift the cut.
 */
export function encodeNumbered<T extends EventType>(event: NewEvent<T>, ts = new Date().toISOString()): NumberedEventParts {
  const { v, type, executionId, scheduleId, queue, task, tenant, data } = eventEnvelope(event, undefined, ts);
  const tail = tailOf(ts, data);
  const storedTail = type === keptByJob ? tailOf(ts, {}) : tail;
  return { route: encodeRoute(event), head: cutAtSeq({ v, type, executionId, scheduleId, queue, task, tenant }), tail, storedTail, storedHead: storedEventHead(type) };
}

function tailOf(ts: string, data: unknown): string {
  return `,${JSON.stringify({ ts, data }).slice(1)}`;
}

/** Stored heads by type: each event a worker writes would otherwise encode its type's again. */
const storedHeads = new Map<EventType, string>();

/** The head of an execution's stored event of this type, which depends on nothing else (a script may hold it). */
export function storedEventHead(type: EventType): string {
  let head = storedHeads.get(type);
  if (head === undefined) storedHeads.set(type, (head = cutAtSeq({ v: eventFormatVersion, type })));
  return head;
}

function cutAtSeq(fields: object): string {
  return `${JSON.stringify(fields).slice(0, -1)},"seq":`;
}

/** The route of a published message, or `null` when it has none (not Conveyor's, or malformed). */
export function decodeRoute(message: string): EventRoute | null {
  const end = message.indexOf('\n');
  if (end < 0) return null;
  let fields: unknown;
  try {
    fields = JSON.parse(message.slice(0, end));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 5) return null;
  const [type, queue, tenant, executionId, scheduleId] = fields as unknown[];
  if (![type, queue, tenant].every(isString) || ![executionId, scheduleId].every(isStringOrNull)) return null;
  return { type, queue, tenant, executionId, scheduleId } as EventRoute;
}

/** The event a published message carries (throws on a malformed one). */
export function decodePublished(message: string): ConveyorEvent {
  return JSON.parse(message.slice(message.indexOf('\n') + 1)) as ConveyorEvent;
}

/**
 * A stored event (an event log's entry); an execution's needs its `subject`, unless an earlier version
 * stored it whole, and a completion its job's `returnvalue` (`null`: the job is gone). The envelope is
 * the one that was published, fields in the same order.
 */
export function decodeStored(entry: string, subject?: EventSubject, returnvalue: string | null = null): ConveyorEvent {
  const event = JSON.parse(entry) as ConveyorEvent;
  if (!subject || event.queue !== undefined) return event;
  const data = event.type === keptByJob && !('result' in event.data) ? { result: parsedOrNull(returnvalue) } : event.data;
  return eventEnvelope({ ...subject, type: event.type, data } as NewEvent, event.seq, event.ts);
}

/** The JSON's value, `null` for none or for what is not JSON (a job written by hand). */
function parsedOrNull(json: string | null): unknown {
  if (!json) return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}

function encodeRoute(event: Pick<NewEvent, 'type' | 'queue' | 'tenant' | 'executionId' | 'scheduleId'>): string {
  return JSON.stringify([event.type, event.queue, event.tenant, event.executionId ?? null, event.scheduleId ?? null]);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';
