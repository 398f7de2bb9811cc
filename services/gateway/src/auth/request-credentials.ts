import { ForbiddenError } from '@conveyor/contracts';
import { isAllowedOrigin, type Authenticator, type Principal } from '@conveyor/identity';
import { readCookie, sessionCookie } from './session-cookie.js';

/** The headers of a request that say who calls and from where, on any HTTP platform. */
export interface CallerHeaders {
  authorization?: string;
  cookie?: string;
  origin?: string;
}

/** CORS only hides answers from foreign pages; a simple request would still act, so it is refused outright. */
export function refuseForeignOrigin({ origin }: CallerHeaders, allowed: readonly string[]): void {
  if (!isAllowedOrigin(origin, allowed)) throw new ForbiddenError(`Requests from ${origin} are not allowed (CONVEYOR_CORS_ORIGINS).`);
}

/**
 * Who calls: the key or token of `Authorization` (a bearer; with `basic`, also the password of HTTP
 * Basic auth, whatever the user name), else the dashboard's session cookie. `bySession` says it was the
 * cookie, with which a change needs more proof. `principal` is `null` for a missing or bad credential.
 */
export async function callerOf(
  authenticator: Authenticator,
  headers: CallerHeaders,
  options: { basic: boolean },
): Promise<{ principal: Principal | null; bySession: boolean }> {
  const credential = credentialOf(headers.authorization, options.basic);
  const cookie = readCookie(headers.cookie, sessionCookie);
  if (credential !== undefined || cookie === undefined || !authenticator.enabled) {
    return { principal: await authenticator.authenticate(credential), bySession: false };
  }
  return { principal: await authenticator.session(cookie), bySession: true };
}

function credentialOf(header: string | undefined, basic: boolean): string | undefined {
  const [, scheme, value] = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header ?? '') ?? [];
  if (!scheme) return undefined;
  if (/^bearer$/i.test(scheme)) return value;
  if (!basic) return undefined;
  const decoded = Buffer.from(value, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
