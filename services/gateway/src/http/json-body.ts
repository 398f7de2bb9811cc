import { TextDecoder } from 'node:util';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '@conveyor/service';

type Inflate = (body: Buffer, options: { maxOutputLength: number }) => Buffer;
const inflaters = new Map<string, Inflate>([
  ['identity', (body) => body],
  ['gzip', gunzipSync],
  ['deflate', inflateSync],
  ['br', brotliDecompressSync],
]);
const decoders = new Map<string, TextDecoder>();

const bodyBytes = new WeakMap<FastifyRequest, Buffer>();

/** The body's bytes as received (decompressed, not decoded), kept for the routes that check a signature over them. */
export function bodyBytesOf(request: FastifyRequest): Buffer | undefined {
  return bodyBytes.get(request);
}

/**
 * The gateway's only body parser: JSON of at most `limit` bytes (compressed or not), in the UTF
 * charset its Content-Type names (UTF-8 by default). Any JSON value parses: one that is no object
 * (`false`, `"x"`) is refused by validation naming `(body)`; an empty body reads as `{}`. A body of
 * another type is not read: the route sees none. The routes named in `keepBytesOf` (patterns) also
 * get the bytes they were sent (`bodyBytesOf`).
 */
export function acceptJsonBodies(fastify: FastifyInstance, limit: number, { keepBytesOf = new Set<string>() } = {}): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: limit }, (request, body, done) => {
    try {
      const inflated = inflate(body as Buffer, request.headers['content-encoding'] ?? 'identity', limit);
      if (keepBytesOf.has(request.routeOptions.url ?? '')) bodyBytes.set(request, inflated);
      done(null, parseJson(decoderOf(request.headers['content-type']).decode(inflated)));
    } catch (error) {
      done(error as Error);
    }
  });
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

function inflate(body: Buffer, encoding: string, limit: number): Buffer {
  const inflater = inflaters.get(encoding.toLowerCase());
  if (!inflater) throw new ApiError(415, 'unsupported_media_type', `The Content-Encoding ${encoding} is not supported.`);
  try {
    return inflater(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw ApiError.payloadTooLarge('The request body is larger than 1 MiB.');
    throw invalidJson(error as Error);
  }
}

/** A decoder of the Content-Type's charset: it drops a byte-order mark, and replaces what it cannot decode. */
function decoderOf(contentType = ''): TextDecoder {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1].toLowerCase() ?? 'utf-8';
  let decoder = decoders.get(charset);
  if (decoder) return decoder;
  try {
    if (!charset.startsWith('utf-')) throw new RangeError(charset);
    decoder = new TextDecoder(charset);
  } catch {
    throw new ApiError(415, 'unsupported_media_type', `The charset ${charset} is not supported: send JSON as UTF-8.`);
  }
  decoders.set(charset, decoder);
  return decoder;
}

function parseJson(text: string): unknown {
  // A common slip of clients: an empty body with a JSON Content-Type.
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidJson(error as Error);
  }
}

function invalidJson(error: Error): ApiError {
  return new ApiError(400, 'invalid_json', `The request body is not valid JSON: ${error.message}`);
}
