import { request as httpRequest, validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { NonRetryableError } from '@conveyor/contracts';
import type { EgressTarget } from './egress-guard.js';

/** Headers that carry credentials: their values are never kept in results, events or logs. */
export const secretHeaders: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** What a secret header's value reads as wherever a response is kept. */
export const redacted = '[redacted]';

/** Set by the call itself, from the URL and the body: a caller's own would change where or how it is sent. */
const reservedHeaders = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection']);

export interface EgressRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** The body is read up to this many bytes; then the connection is closed. */
  maxBodyBytes: number;
}

export interface EgressResponse {
  status: number;
  /** Repeated headers joined with `, `; secret ones redacted. */
  headers: Record<string, string>;
  body: Buffer;
  /** The response went on past `maxBodyBytes`: the rest was never read. */
  truncated: boolean;
}

/** Refuses, for good, a header the call could not send or must set itself; the message never shows a value. */
export function checkRequestHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (reservedHeaders.has(name.toLowerCase())) {
      throw new NonRetryableError(`Header ${JSON.stringify(name)} is set by the request itself`, 'invalid_header');
    }
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new NonRetryableError(`Header ${JSON.stringify(name)} has an invalid name or value`, 'invalid_header');
    }
  }
}

export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
      .map(([name, value]) => [name, secretHeaders.has(name) ? redacted : [value].flat().join(', ')]),
  );
}

/** Sends a request to a checked target, dialling only its pinned address, and reads at most `maxBodyBytes` of the answer. */
export async function sendEgressRequest(target: EgressTarget, request: EgressRequest): Promise<EgressResponse> {
  checkRequestHeaders(request.headers);
  const { address, family } = target;
  // Node asks for one address, or for all of them when it may try several families.
  const pinned: LookupFunction = (_host, options, callback) => (options.all ? callback(null, [{ address, family }]) : callback(null, address, family));
  const send = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const options = { method: request.method, headers: request.headers, signal: request.signal, lookup: pinned, agent: false };
      send(target.url, options, resolve).on('error', reject).end(request.body);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const room = request.maxBodyBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        truncated = true;
        // Closes the connection: the rest is never read, let alone buffered.
        response.destroy();
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    return { status: response.statusCode ?? 0, headers: redactHeaders(response.headers), body: Buffer.concat(chunks), truncated };
  } catch (error) {
    // An abort reads as its reason (a timeout, a cancel), not as a broken socket.
    request.signal.throwIfAborted();
    throw error;
  }
}
