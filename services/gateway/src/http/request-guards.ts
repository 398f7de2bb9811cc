import type { PipeTransform } from '@nestjs/common';
import type { FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isId, jsonShapeProblems, shownId, tenantMessage, tenantPattern, type IdKind } from '@conveyor/contracts';
import { ApiError } from '@conveyor/service';

/**
 * A hook that runs right after the body is parsed, before any handler or validation: a body or query
 * nested deeper than the limit or holding a prototype key is a `400` before any other work (nothing
 * recursive ever sees it).
 */
export function refuseHostileJson(request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction): void {
  const problems = [...jsonShapeProblems(request.body), ...jsonShapeProblems(request.query)];
  done(problems.length > 0 ? ApiError.validation(problems) : undefined);
}

/** A path's id: one not of its kind's format is unknown (`404`) before any lookup, so it never reaches a key name. */
export class IdPipe implements PipeTransform<string, string> {
  constructor(private readonly kind: IdKind) {}

  transform(id: string): string {
    if (isId(this.kind, id)) return id;
    throw ApiError.notFound(`${idNouns[this.kind]} ${shownId(id)}`);
  }
}

const idNouns: Record<IdKind, string> = { execution: 'Execution', schedule: 'Schedule', apiKey: 'API key', hook: 'Hook', webhook: 'Webhook' };

export const executionId = new IdPipe('execution');
export const apiKeyId = new IdPipe('apiKey');
export const scheduleId = new IdPipe('schedule');
export const hookId = new IdPipe('hook');
export const webhookId = new IdPipe('webhook');

/** A path's tenant name: checked as `?tenant=` is (`400` naming `tenant`), so that it never reaches a key name otherwise. */
export const tenantName: PipeTransform<string, string> = {
  transform(tenant: string): string {
    if (tenantPattern.test(tenant)) return tenant;
    throw ApiError.validation([{ path: 'tenant', message: tenantMessage }]);
  },
};
