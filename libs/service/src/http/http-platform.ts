import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { metricsOn } from '@conveyor/metrics';
import type { Logger } from '../logger.js';
import { ApiError } from './api-error.js';
import { fromPlatformError } from './api-exception.filter.js';
import { observeRequests } from './metrics.controller.js';
import { logRequest, logRequests, requestIdHeader, requestIdOf, requestLineLogger } from './request-log.js';

/** Node's limit on a request line and its headers: no path parameter can be longer. */
const headerBytes = 16 * 1024;

/**
 * Nest's Fastify platform as every Conveyor HTTP service runs it: paths match in any case and with or
 * without a trailing slash; the query is flat (`?status=a&status=b` is a list, `a[b]` a key of its
 * own, as Node's `querystring` reads it); a path parameter may be as long as a request line, so that a
 * long id is answered by its format check (`404`) rather than by the router. Each request has an id
 * (the caller's `X-Request-Id` when it is safe, see `requestIdOf`), answered in `X-Request-Id`, and is
 * logged once as it is answered (`logRequests`, to `requestLineLogger`) and, with metrics on, timed;
 * Fastify's own request logging stays off.
 */
export function httpPlatform(logger: Logger): FastifyAdapter {
  const lines = requestLineLogger(logger);
  const adapter = new FastifyAdapter({
    clientErrorHandler: (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, lines),
    // The router's refusals (a malformed percent-escape) come before any route, its error handler and hooks included.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const answer = fromPlatformError(error) ?? new ApiError(400, 'bad_request', error.message);
      reply.raw.once('finish', () => logRequest(lines, request, reply));
      void reply.status(answer.statusCode).header(requestIdHeader, request.id).send(answer.toBody());
    },
    genReqId: requestIdOf,
    requestIdHeader: false,
    // Requests that arrive while the service closes are answered as usual (with `connection: close`),
    // never with Fastify's own 503 body.
    return503OnClosing: false,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: headerBytes, querystringParser: parseQuery },
  });
  logRequests(adapter.getInstance(), lines);
  if (metricsOn()) observeRequests(adapter.getInstance());
  return adapter;
}

/**
 * A request Node's HTTP parser refuses before any handler runs (headers over its 16 KiB limit, a
 * malformed request) still gets the contract's error body, not a bare status line.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: unknown }, logger: Logger): void {
  // A request still being answered on this connection (pipelining) must not get a second response.
  if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage) return void socket.destroy();
  const answer =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(431, 'headers_too_large', 'The request line and headers are larger than 16 KiB.')
      : error.code === 'HPE_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(408, 'request_timeout', 'The request took too long to arrive.')
        : new ApiError(400, 'bad_request', 'The request is not valid HTTP.');
  const body = JSON.stringify(answer.toBody());
  // No request was read, so no caller's id either.
  const requestId = randomUUID();
  logger.info({ requestId, status: answer.statusCode, code: answer.code }, 'request');
  const head = [
    `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `${requestIdHeader}: ${requestId}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
