import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, InvalidFieldsError, sessionRequestHeader, tenantMessage, tenantPattern, UnauthorizedError } from '@conveyor/contracts';
import type { GatewayConfig } from '@conveyor/config';
import { authorize, Authenticator, Caller, isAllowedOrigin, type Principal } from '@conveyor/identity';
import { ACCESS, type AccessRule } from '@conveyor/service';
import { GATEWAY_CONFIG } from '../gateway-config.js';
import { readCookie, sessionCookie } from './session-cookie.js';

/** The parts of a request the guard reads, on any HTTP platform. */
interface AuthRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  caller?: Caller;
}


/**
 * Every route's gate: finds the caller (API key or browser token as `Authorization: Bearer`, else
 * the dashboard's session cookie), then checks the route's need against its role (`401`, `403`).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    // CORS only hides answers from foreign pages; a simple request would still act, so it is refused outright.
    const origin = headerOf(request, 'origin');
    if (!isAllowedOrigin(origin, this.config.corsOrigins)) throw new ForbiddenError(`Requests from ${origin} are not allowed (CONVEYOR_CORS_ORIGINS).`);
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS, [context.getHandler(), context.getClass()]) ?? { need: 'admin' };
    if (rule.need === 'public') return true;
    const principal = await this.principalOf(request);
    if (principal.kind === 'token' && !rule.tokens) throw new ForbiddenError('A browser token only reads executions and schedules.');
    authorize(principal, rule.need);
    request.caller = new Caller(principal, takeTenant(request));
    return true;
  }

  private async principalOf(request: AuthRequest): Promise<Principal> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headerOf(request, 'authorization') ?? '')?.[1];
    const cookie = readCookie(headerOf(request, 'cookie'), sessionCookie);
    if (bearer !== undefined || cookie === undefined || !this.authenticator.enabled) {
      const principal = await this.authenticator.authenticate(bearer);
      if (!principal) throw new UnauthorizedError();
      return principal;
    }
    const session = await this.authenticator.session(cookie);
    if (!session) throw new UnauthorizedError('The dashboard session has ended: log in again.');
    // A page on another site cannot add this header without a CORS preflight, which only allowed origins pass.
    if (!['GET', 'HEAD'].includes(request.method) && headerOf(request, sessionRequestHeader) !== '1') {
      throw new ForbiddenError(`A change made with the session cookie must carry the ${sessionRequestHeader}: 1 header.`);
    }
    return session;
  }
}

function headerOf(request: AuthRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `?tenant=` names the caller's tenant, not a filter of the route: it is taken off the query the route parses. */
function takeTenant(request: AuthRequest): string | undefined {
  const { tenant, ...rest } = request.query;
  // Express 5 parses `req.query` anew on every read, so a deletion would not last: the route gets the rest as the request's own.
  Object.defineProperty(request, 'query', { value: rest, writable: true, enumerable: true, configurable: true });
  if (tenant === undefined) return undefined;
  if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) throw new InvalidFieldsError([{ path: 'tenant', message: tenantMessage }]);
  return tenant;
}
