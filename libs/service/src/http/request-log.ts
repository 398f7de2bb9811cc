import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';

/** The header a request id arrives in and is answered with. */
export const requestIdHeader = 'x-request-id';

/** An incoming id is kept when it is this short and made of these characters only; else one is made. */
const acceptedRequestId = /^[\w.:@+/=-]{1,128}$/;

/** At most this many execution ids are named on one request line (with their count): a line stays bounded. */
export const loggedExecutionIds = 100;

/** Fastify's `genReqId`: the caller's `X-Request-Id` when it is safe to log and echo, else a new UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const incoming = raw.headers[requestIdHeader];
  return typeof incoming === 'string' && acceptedRequestId.test(incoming) ? incoming : randomUUID();
}

interface Touched {
  ids: string[];
  count: number;
}

const touchedByRequest = new WeakMap<FastifyRequest, Touched>();

/** Names executions the request created or acted on, for its request line. */
export function noteExecutions(request: FastifyRequest, ids: readonly string[]): void {
  let touched = touchedByRequest.get(request);
  if (!touched) touchedByRequest.set(request, (touched = { ids: [], count: 0 }));
  touched.ids.push(...ids.slice(0, loggedExecutionIds - touched.ids.length));
  touched.count += ids.length;
}

/** An inbound hook's path ends in its token, a credential (whatever its case or percent-escapes, even on a path no route takes). */
const hookToken = /(\/v1\/+hooks\/).*/i;

/** The path without the query, and with a hook's token redacted. */
export function loggedPath(url: string): string {
  const path = url.split('?', 1)[0];
  // Each escape alone, so that a malformed one elsewhere in the path does not hide the others.
  const readable = path.replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  return hookToken.test(readable) ? readable.replace(hookToken, '$1[redacted]') : path;
}

/**
 * The logger request lines go to: the process's, without its redaction pass. A line holds only the
 * fields `logRequest` names (ids, method, route, a path whose hook token is redacted, numbers), none of
 * them a credential, so the pass never changes one; it matches every field against every redacted
 * path, and costs several times the rest of the line.
 */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/** Probes are polled all day: their lines are `debug`, so that the default level leaves them out. */
const probeRoutes = new Set(['/health', '/health/ready']);

/**
 * Writes the request's one line once it is answered: its id, method, route pattern and path (never
 * the query, headers or body), status, duration and the executions it named.
 */
export function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.url;
  const touched = touchedByRequest.get(request);
  const fields = {
    requestId: request.id,
    method: request.method,
    route: route ?? null,
    path: loggedPath(request.url),
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 10) / 10,
    ...(touched && { executionIds: touched.ids, executionCount: touched.count }),
  };
  if (route !== undefined && probeRoutes.has(route)) logger.debug(fields, 'request');
  else logger.info(fields, 'request');
}

/** Every answer carries the request's id; every answered request is logged once. */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(requestIdHeader, request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => logRequest(logger, request, reply));
}
