import { Body, Controller, Get, HttpCode, Inject, Post, Headers, Res } from '@nestjs/common';
import { defaultTenant, LoginDto, UnauthorizedError, type DashboardSessionView } from '@conveyor/contracts';
import { Authenticator, issueBrowserToken, type Caller } from '@conveyor/identity';
import { Access, ApiRoute, CallerOf } from '@conveyor/service';
import { parseRequest } from '../http/parse-request.js';
import { sessionCookieHeader, sessionTtlSeconds } from './session-cookie.js';

/** The one part of a reply this controller writes, on any HTTP platform. */
interface CookieReply {
  header(name: string, value: string): unknown;
}

/** `POST /ui/login`: who the session acts for, and until when. */
export type LoginView = Omit<DashboardSessionView, 'token'>;

/** How long the dashboard's socket token lives: it is renewed well before. */
const socketTokenTtlSeconds = 15 * 60;

/** The dashboard's login: a key becomes an `HttpOnly`, `SameSite=Strict` session cookie. */
@Controller('ui')
export class SessionController {
  constructor(@Inject(Authenticator) private readonly authenticator: Authenticator) {}

  /** Public, since it is where credentials come in; foreign origins are refused by the auth guard. */
  @Post('login')
  @Access('public')
  @HttpCode(200)
  @ApiRoute({ summary: "Log in to the dashboard: sets the session cookie", body: 'LoginDto', answers: { 200: 'LoginView' }, errors: [401] })
  async login(@Body() body: unknown, @Headers('x-forwarded-proto') proto: string | undefined, @Res({ passthrough: true }) reply: CookieReply): Promise<LoginView> {
    const { key, tenant } = parseRequest(LoginDto, body);
    const principal = await this.authenticator.authenticate(key);
    if (!principal || principal.kind !== 'key') throw new UnauthorizedError('That is not a valid API key.');
    const sessionTenant = principal.tenant === null ? (tenant ?? defaultTenant) : principal.tenant;
    const { token, expiresAt } = await this.authenticator.signer.sign('session', { keyId: principal.keyId, tenant: sessionTenant }, sessionTtlSeconds);
    reply.header('set-cookie', sessionCookieHeader(token, proto === 'https'));
    return { role: principal.role, tenant: sessionTenant, expiresAt: expiresAt.toISOString() };
  }

  @Post('logout')
  @Access('public')
  @HttpCode(204)
  @ApiRoute({ summary: 'Log out of the dashboard: clears the session cookie', answers: { 204: null } })
  logout(@Headers('x-forwarded-proto') proto: string | undefined, @Res({ passthrough: true }) reply: CookieReply): void {
    reply.header('set-cookie', sessionCookieHeader(null, proto === 'https'));
  }

  /** Who the page acts for, with a fresh read-only token for its socket (any role: the socket only reads). */
  @Get('session')
  @Access('read')
  @ApiRoute({ summary: "The dashboard's session, with a fresh browser token for its socket", answers: { 200: 'DashboardSessionView' } })
  async session(@CallerOf() caller: Caller): Promise<DashboardSessionView> {
    const { principal } = caller;
    if (principal.kind !== 'key' || principal.tenant === null) throw new UnauthorizedError('Log in to the dashboard with an API key.');
    const { token, expiresAt } = await issueBrowserToken(this.authenticator.signer, caller, { scope: { tenant: true }, ttlSeconds: socketTokenTtlSeconds });
    return { role: principal.role, tenant: principal.tenant, token, expiresAt };
  }
}
