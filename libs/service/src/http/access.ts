import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Caller, Need } from '@conveyor/identity';

/** What a route needs of its caller; `tokens`: browser tokens may call it too (read-only `GET`s of executions and schedules). */
export type AccessRule = { need: 'public' } | { need: Need; tokens?: boolean };

export const ACCESS = Symbol('ACCESS');

/** Declares what a route (or every route of a controller) needs; a route that declares nothing is admin-only. */
export const Access = (need: AccessRule['need'], options: { tokens?: boolean } = {}) => SetMetadata(ACCESS, { need, ...options });

/** The request's caller, as the auth guard found it. */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => context.switchToHttp().getRequest<{ caller: Caller }>().caller);
