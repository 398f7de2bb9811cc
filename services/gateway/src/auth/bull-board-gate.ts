import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ForbiddenError, UnauthorizedError } from '@conveyor/contracts';
import { authorize, type Authenticator } from '@conveyor/identity';
import { ApiError, fromDomainError } from '@conveyor/service';
import { callerOf, refuseForeignOrigin } from './request-credentials.js';

/** Bull Board's routes, as the router matched them. */
const boardPath = '/admin/queues';

/** What a browser is told when it must ask for Bull Board's credentials. */
const challenge = 'Basic realm="Conveyor", charset="UTF-8"';

/**
 * Bull Board's routes are its own plugin, not Nest routes, so the auth guard never sees them: this
 * hook lets through an admin only — the admin key as the password of HTTP Basic auth (what a browser
 * asks for) or as a bearer, or an admin's dashboard session — and refuses foreign origins as the guard
 * does (a browser resends Basic credentials cross-site).
 */
export function bullBoardGate(authenticator: Authenticator, origins: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The matched route's pattern, so that `/ADMIN/queues/` (the router ignores case and a trailing slash) is gated too.
    if (!request.routeOptions.url?.startsWith(boardPath)) return;
    try {
      await admit(authenticator, origins, request);
    } catch (error) {
      const refusal = error instanceof DomainError ? fromDomainError(error) : ApiError.redisUnavailable();
      if (refusal.statusCode === 401) void reply.header('www-authenticate', challenge);
      return reply.status(refusal.statusCode).send(refusal.toBody());
    }
  };
}

async function admit(authenticator: Authenticator, origins: readonly string[], request: FastifyRequest): Promise<void> {
  refuseForeignOrigin(request.headers, origins);
  const { principal } = await callerOf(authenticator, request.headers, { basic: true });
  if (!principal) throw new UnauthorizedError('Bull Board needs the admin key, as the password of HTTP Basic auth.');
  if (principal.kind === 'token') throw new ForbiddenError('A browser token only reads executions and schedules.');
  authorize(principal, 'admin');
}
