import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { isId } from '@conveyor/contracts';
import { tracing, type SpanAttributes } from '@conveyor/tracing';
import { createsExecutions } from '../executions/logged-executions.js';

/**
 * With tracing on, each request gets a span (`POST /v1/executions`), in the caller's trace when it
 * sends one (`traceparent`): the jobs it adds, and so their runs on the workers, are traced under it.
 */
@Injectable()
export class TracedRequests implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions.url ?? request.url.split('?', 1)[0];
    const options = { kind: 'server' as const, headers: request.headers, attributes: { 'http.request.method': request.method, 'http.route': route } };
    return from(
      tracing().inSpan(`${request.method} ${route}`, options, async (span) => {
        // Called inside the span, so that the handler runs in its context.
        const answer = await lastValueFrom(next.handle(), { defaultValue: undefined });
        span.setAttributes(executionAttributes(answer, createsExecutions(this.reflector, context)));
        return answer;
      }),
    );
  }
}

/** The execution the request answers with; for a batch, how many it created. */
function executionAttributes(answer: unknown, created: boolean): SpanAttributes {
  const { id, queue, task, items } = (answer ?? {}) as { id?: unknown; queue?: unknown; task?: unknown; items?: unknown };
  if (isId('execution', id)) return { 'conveyor.execution.id': String(id), 'conveyor.queue': String(queue), 'conveyor.task': String(task) };
  return created && Array.isArray(items) ? { 'conveyor.execution.count': items.length } : {};
}
