import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError, InvalidFieldsError, sessionRequestHeader, tenantMessage, tenantPattern, UnauthorizedError } from '@conveyor/contracts';
import type { GatewayConfig } from '@conveyor/config';
import { authorize, Authenticator, Caller, type Principal } from '@conveyor/identity';
import { ACCESS, type AccessRule } from '@conveyor/service';
import { GATEWAY_CONFIG } from '../gateway-config.js';
import { callerOf, refuseForeignOrigin } from './request-credentials.js';

/** The parts of a request the guard reads, on any HTTP platform. */
interface AuthRequest {
  method: string;
  headers: IncomingHttpHeaders;
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
    refuseForeignOrigin(request.headers, this.config.corsOrigins);
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS, [context.getHandler(), context.getClass()]) ?? { need: 'admin' };
    if (rule.need === 'public') return true;
    const principal = await this.principalOf(request);
    if (principal.kind === 'token' && !rule.tokens) throw new ForbiddenError('A browser token only reads executions and schedules.');
    authorize(principal, rule.need);
    request.caller = new Caller(principal, takeTenant(request));
    return true;
  }

  private async principalOf(request: AuthRequest): Promise<Principal> {
    const { principal, bySession } = await callerOf(this.authenticator, request.headers, { basic: false });
    if (!principal) throw bySession ? new UnauthorizedError('The dashboard session has ended: log in again.') : new UnauthorizedError();
    // A page on another site cannot add this header without a CORS preflight, which only allowed origins pass.
    if (bySession && !['GET', 'HEAD'].includes(request.method) && request.headers[sessionRequestHeader] !== '1') {
      throw new ForbiddenError(`A change made with the session cookie must carry the ${sessionRequestHeader}: 1 header.`);
    }
    return principal;
  }
}

/** `?tenant=` names the caller's tenant, not a filter of the route: it is taken off the query the route parses. */
function takeTenant(request: AuthRequest): string | undefined {
  const { tenant, ...rest } = request.query;
  request.query = rest;
  if (tenant === undefined) return undefined;
  if (typeof tenant !== 'string' || !tenantPattern.test(tenant)) throw new InvalidFieldsError([{ path: 'tenant', message: tenantMessage }]);
  return tenant;
}
