import type { ExecutionView } from '@conveyor/contracts';

/** A reply of the REST API, body parsed. */
export interface ApiReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Minimal JSON client for the gateway's REST API. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** Submits an execution; anything but `202 Accepted` throws, with the reply. */
  async submit(body: object): Promise<ExecutionView> {
    const reply = await this.post<ExecutionView>('/v1/executions', body);
    if (reply.status !== 202) throw new Error(`Submission answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }

  /** The execution as `GET /v1/executions/:id` reads it. */
  async execution(id: string): Promise<ExecutionView> {
    return (await this.get<ExecutionView>(`/v1/executions/${id}`)).body;
  }

  get<T = any>(path: string): Promise<ApiReply<T>> {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown): Promise<ApiReply<T>> {
    return this.request<T>('POST', path, body);
  }

  delete<T = any>(path: string): Promise<ApiReply<T>> {
    return this.request<T>('DELETE', path);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply<T>> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }
}
