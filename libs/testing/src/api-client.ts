import assert from 'node:assert/strict';
import { ResponseSchemas } from './response-schemas.js';

/** A reply of the REST API, body parsed. */
export interface ApiReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Asserts that a reply is the contract's error body: `{ statusCode, code, message }` with this status and code. */
export function assertApiError(reply: ApiReply, status: number, code: string, label = ''): void {
  const shown = `${label ? `${label}: ` : ''}${reply.status} ${JSON.stringify(reply.body)?.slice(0, 300)}`;
  assert.equal(reply.status, status, shown);
  assert.equal(reply.body?.statusCode, status, shown);
  assert.equal(reply.body?.code, code, shown);
  assert.equal(typeof reply.body?.message, 'string', shown);
}

/**
 * Raw HTTP to the gateway, status and headers included: for tests of the REST contract itself
 * (status codes, headers, error bodies, input the client SDK's types do not allow). Tests acting
 * as a client use the SDK (`Stack.client()`). Every answer is checked against the gateway's own
 * OpenAPI document (`ResponseSchemas`): a status or body it does not describe fails the request.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** Sent with every request (an `authorization`, an `origin`); a request's own headers win. */
    private readonly defaultHeaders: Record<string, string> = {},
    /** `false` for a server without the document (the monitor), or where the check would weigh on a measurement. */
    private readonly checkAnswers = true,
  ) {}

  /** The same gateway, called with `Authorization: Bearer <credential>` (an API key or a browser token). */
  as(credential: string): ApiClient {
    return new ApiClient(this.baseUrl, { ...this.defaultHeaders, authorization: `Bearer ${credential}` }, this.checkAnswers);
  }

  get<T = any>(path: string): Promise<ApiReply<T>> {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown): Promise<ApiReply<T>> {
    return this.request<T>('POST', path, body);
  }

  put<T = any>(path: string, body?: unknown): Promise<ApiReply<T>> {
    return this.request<T>('PUT', path, body);
  }

  delete<T = any>(path: string): Promise<ApiReply<T>> {
    return this.request<T>('DELETE', path);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply<T>> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.defaultHeaders, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    // Plain text (`/metrics`) stays text; every other body is JSON.
    const plain = response.headers.get('content-type')?.startsWith('text/plain');
    const reply = { status: response.status, headers: response.headers, body: text ? (plain ? text : JSON.parse(text)) : undefined };
    if (this.checkAnswers) (await ResponseSchemas.of(this.baseUrl)).check(method, path, reply.status, reply.body);
    return reply;
  }
}
