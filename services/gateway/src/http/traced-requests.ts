import { Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { isId } from '@conveyor/contracts';
import { knownApiError } from '@conveyor/service';
import { tracing, type SpanAttributes, type SpanOptions } from '@conveyor/tracing';
import { createsExecutions } from '../executions/logged-executions.js';

/** The status a thrown error is answered with (the exception filter answers anything unexpected with a 5xx). */
const statusOf = (error: unknown) => knownApiError(error)?.statusCode ?? 500;

const TRACED = Symbol('TRACED');

/** Each route of the controller gets a span while tracing is on (see `TracedRequests`). */
export const Traced = () => SetMetadata(TRACED, true);

/**
 * With tracing on, each request to a `@Traced` controller gets a span (`POST /v1/executions`), in the
 * caller's trace when it sends one (`traceparent`): the jobs it adds, and so their runs on the workers,
 * are traced under it.
 * A refusal (4xx) is the caller's error, not the span's: it only sets `http.response.status_code`.
 * Provided to every route (`APP_INTERCEPTOR`) only while tracing is on: with it off, even an interceptor
 * that passes straight through costs each request Nest's interceptor chain.
 */
@Injectable()
export class TracedRequests implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.reflector.get<boolean | undefined>(TRACED, context.getClass()) !== true) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions.url ?? request.url.split('?', 1)[0];
    const options: SpanOptions = {
      kind: 'server',
      headers: request.headers,
      attributes: { 'http.request.method': request.method, 'http.route': route },
      isFailure: (error) => statusOf(error) >= 500,
    };
    return from(
      tracing().inSpan(`${request.method} ${route}`, options, async (span) => {
        try {
          // Called inside the span, so that the handler runs in its context.
          const answer = await lastValueFrom(next.handle(), { defaultValue: undefined });
          span.setAttributes(executionAttributes(answer, createsExecutions(this.reflector, context)));
          return answer;
        } catch (error) {
          span.setAttributes({ 'http.response.status_code': statusOf(error) });
          throw error;
        }
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
