import type { NextFunction, Request, Response } from 'express';
import { DomainError, ForbiddenError, UnauthorizedError } from '@conveyor/contracts';
import { authorize, isAllowedOrigin, type Authenticator } from '@conveyor/identity';
import { ApiError, fromDomainError } from '@conveyor/service';

/** What a browser is told when it must ask for Bull Board's credentials. */
const challenge = 'Basic realm="Conveyor", charset="UTF-8"';

/**
 * Bull Board (`/admin/queues`) is middleware, not a route, so the auth guard never sees it: this gate
 * lets through an admin key only, as the password of HTTP Basic auth (what a browser asks for) or as a
 * bearer, and refuses foreign origins as the guard does (a browser resends Basic credentials cross-site).
 */
export function bullBoardGate(authenticator: Authenticator, origins: readonly string[]) {
  return (request: Request, response: Response, next: NextFunction): void => {
    admit(authenticator, origins, request).then(
      () => next(),
      (error: unknown) => {
        const refusal = error instanceof DomainError ? fromDomainError(error) : ApiError.redisUnavailable();
        if (refusal.statusCode === 401) response.setHeader('www-authenticate', challenge);
        response.status(refusal.statusCode).json(refusal.toBody());
      },
    );
  };
}

async function admit(authenticator: Authenticator, origins: readonly string[], request: Request): Promise<void> {
  const { origin } = request.headers;
  if (!isAllowedOrigin(origin, origins)) throw new ForbiddenError(`Requests from ${origin} are not allowed (CONVEYOR_CORS_ORIGINS).`);
  const principal = await authenticator.authenticate(credentialOf(request.headers.authorization));
  if (!principal) throw new UnauthorizedError('Bull Board needs the admin key, as the password of HTTP Basic auth.');
  if (principal.kind === 'token') throw new ForbiddenError('A browser token only reads executions and schedules.');
  authorize(principal, 'admin');
}

/** The key in `Authorization`: the password of `Basic` (whatever the user name), or a `Bearer`. */
function credentialOf(header: string | undefined): string | undefined {
  const [, scheme, value] = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '') ?? [];
  if (!scheme || /^bearer$/i.test(scheme)) return value;
  const decoded = Buffer.from(value, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
