import { Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { tap, type Observable } from 'rxjs';
import { noteExecutions } from '@conveyor/service';

const CREATES = Symbol('CREATES_EXECUTIONS');

/** The route answers with the executions it created (one, or `{ items }`): their ids go on its request line. */
export const CreatesExecutions = () => SetMetadata(CREATES, true);

export function createsExecutions(reflector: Reflector, context: ExecutionContext): boolean {
  return reflector.get<boolean | undefined>(CREATES, context.getHandler()) === true;
}

/**
 * Names on the request line the execution a route acts on (its `:id`, even when refused) and those
 * it created (`@CreatesExecutions`).
 */
@Injectable()
export class LoggedExecutions implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const { id } = (request.params ?? {}) as { id?: unknown };
    if (typeof id === 'string') noteExecutions(request, [id]);
    if (!createsExecutions(this.reflector, context)) return next.handle();
    return next.handle().pipe(tap((answer) => noteExecutions(request, createdIds(answer))));
  }
}

function createdIds(answer: unknown): string[] {
  const { id, items } = (answer ?? {}) as { id?: unknown; items?: unknown };
  if (typeof id === 'string') return [id];
  return Array.isArray(items) ? items.map((item: { id?: unknown }) => item?.id).filter((one): one is string => typeof one === 'string') : [];
}
