import { STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { ApiError } from './http/api-error.js';
import type { Logger } from './logger.js';
import { closeOnSignals } from './shutdown.js';

/** Listens, and announces `ready` with the URL. */
export async function serveHttp(app: INestApplication, http: { host: string; port: number }, logger: Logger): Promise<void> {
  closeOnSignals(app, logger);
  answerClientErrors(app.getHttpServer() as Server);
  await app.listen(http.port, http.host);
  announceReady(logger, { url: boundUrl(app.getHttpServer().address() as AddressInfo) });
}

/** The URL of the address actually bound (Nest's `getUrl()` names loopback for every host). */
export function boundUrl({ address, family, port }: AddressInfo): string {
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

/** The `ready` line launchers and tests wait for, whatever LOG_LEVEL says. */
export function announceReady(logger: Logger, fields: Record<string, unknown>): void {
  logger.child({}, { level: 'info' }).info(fields, 'ready');
}

/**
 * A request Node's HTTP parser refuses before any handler runs (headers over its 16 KiB limit, a
 * malformed request) still gets the contract's error body, not a bare status line.
 */
function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: unknown }) => {
    // A request still being answered on this connection (pipelining) must not get a second response.
    if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage) return socket.destroy();
    const answer =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError(431, 'headers_too_large', 'The request line and headers are larger than 16 KiB.')
        : error.code === 'HPE_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new ApiError(408, 'request_timeout', 'The request took too long to arrive.')
          : new ApiError(400, 'bad_request', 'The request is not valid HTTP.');
    const body = JSON.stringify(answer.toBody());
    const head = [`HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}`, 'content-type: application/json; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  });
}
