import { Inject, Injectable } from '@nestjs/common';
import { NonRetryableError, type httpRequest, type HttpRequestInput, type HttpRequestOutput } from '@conveyor/contracts';
import type { WorkerConfig } from '@conveyor/config';
import { EgressGuard, sendEgressRequest } from '@conveyor/egress';
import { LOGGER, type Logger } from '@conveyor/service';
import type { ExecutionContext } from '../runtime/execution-context.js';
import { WORKER_CONFIG } from '../worker-config.js';
import type { TaskHandler } from './task-handler.js';

const maxBodyBytes = 64 * 1024;
const defaultTimeoutMs = 30_000;

/** Whether a response status counts as success, as a retryable failure, or as a final one. */
export function judgeStatus(status: number, expectStatus: number | undefined): 'ok' | 'retry' | 'fail' {
  if (expectStatus !== undefined) return status === expectStatus ? 'ok' : 'retry';
  if (status < 400) return 'ok';
  return status >= 500 || status === 429 || status === 408 ? 'retry' : 'fail';
}

@Injectable()
export class HttpRequestHandler implements TaskHandler<typeof httpRequest> {
  private readonly guard: EgressGuard;

  constructor(@Inject(WORKER_CONFIG) config: WorkerConfig, @Inject(LOGGER) logger: Logger) {
    this.guard = new EgressGuard({ ...config.httpTask, ...config.egress, hostsSetting: 'HTTP_TASK_ALLOWED_HOSTS', logger });
  }

  async run(input: HttpRequestInput, ctx: ExecutionContext): Promise<HttpRequestOutput> {
    const target = await this.guard.check(new URL(input.url));
    const isText = typeof input.body === 'string';
    const method = input.method ?? (input.body === undefined ? 'GET' : 'POST');
    const response = await sendEgressRequest(target, {
      method,
      headers: { ...(input.body !== undefined && !isText ? { 'content-type': 'application/json' } : {}), ...input.headers },
      body: input.body === undefined ? undefined : isText ? (input.body as string) : JSON.stringify(input.body),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(input.timeoutMs ?? defaultTimeoutMs)]),
      maxBodyBytes,
    });
    const verdict = judgeStatus(response.status, input.expectStatus);
    const summary = `${method} ${target.url.origin}${target.url.pathname} answered ${response.status}`;
    ctx.log(response.truncated ? `${summary} (body cut at ${maxBodyBytes} bytes)` : summary);
    if (verdict === 'fail') throw new NonRetryableError(summary, 'http_status');
    if (verdict === 'retry') throw Object.assign(new Error(summary), { code: 'http_status' });
    const text = response.body.toString('utf8');
    const isJson = response.headers['content-type']?.includes('json') ?? false;
    return {
      status: response.status,
      headers: response.headers,
      body: isJson && text && !response.truncated ? parseJson(text) : text,
      truncated: response.truncated,
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
