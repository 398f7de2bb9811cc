import { Inject, Injectable } from '@nestjs/common';
import { NonRetryableError, type httpRequest, type HttpRequestInput, type HttpRequestOutput } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import type { ExecutionContext } from '../runtime/execution-context.js';
import { WORKER_CONFIG } from '../worker-config.js';
import type { TaskHandler } from './task-handler.js';

const maxBodyChars = 64 * 1024;
const defaultTimeoutMs = 30_000;

/** `true` when `host` is listed, or matches a listed `*.domain` wildcard. */
export function isHostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowedHosts.some((allowed) => (allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) : name === allowed));
}

/** Whether a response status counts as success, as a retryable failure, or as a final one. */
export function judgeStatus(status: number, expectStatus: number | undefined): 'ok' | 'retry' | 'fail' {
  if (expectStatus !== undefined) return status === expectStatus ? 'ok' : 'retry';
  if (status < 400) return 'ok';
  return status >= 500 || status === 429 || status === 408 ? 'retry' : 'fail';
}

@Injectable()
export class HttpRequestHandler implements TaskHandler<typeof httpRequest> {
  constructor(@Inject(WORKER_CONFIG) private readonly config: WorkerConfig) {}

  async run(input: HttpRequestInput, ctx: ExecutionContext): Promise<HttpRequestOutput> {
    const url = new URL(input.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!isHostAllowed(host, this.config.httpTask.allowedHosts)) {
      throw new NonRetryableError(`Host ${host} is not in HTTP_TASK_ALLOWED_HOSTS`, 'host_not_allowed');
    }
    const isText = typeof input.body === 'string';
    const headers = { ...(input.body !== undefined && !isText ? { 'content-type': 'application/json' } : {}), ...input.headers };
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(input.timeoutMs ?? defaultTimeoutMs)]);
    const response = await fetch(url, {
      method: input.method ?? (input.body === undefined ? 'GET' : 'POST'),
      headers,
      body: input.body === undefined ? undefined : isText ? (input.body as string) : JSON.stringify(input.body),
      signal,
      redirect: 'manual',
    });
    const text = await response.text();
    const verdict = judgeStatus(response.status, input.expectStatus);
    const summary = `${input.method ?? 'GET'} ${url.origin}${url.pathname} answered ${response.status}`;
    ctx.log(summary);
    if (verdict === 'fail') throw new NonRetryableError(summary, 'http_status');
    if (verdict === 'retry') throw Object.assign(new Error(summary), { code: 'http_status' });
    const isJson = response.headers.get('content-type')?.includes('json') ?? false;
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: isJson && text ? parseJson(text) : text.slice(0, maxBodyChars),
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, maxBodyChars);
  }
}
