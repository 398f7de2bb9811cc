/** A reply of the REST API, body parsed. */
export interface ApiReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Raw HTTP to the gateway, status and headers included: for tests of the REST contract itself
 * (status codes, headers, error bodies, input the client SDK's types do not allow). Tests acting
 * as a client use the SDK (`Stack.client()`).
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** Sent with every request (`authorization` …). */
    readonly headers: Record<string, string> = {},
  ) {}

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
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.headers, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }
}
