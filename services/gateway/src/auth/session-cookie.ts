/** The dashboard's session cookie. */
export const sessionCookie = 'conveyor_session';

/** A dashboard session lasts a working day; the page's socket tokens are renewed within it. */
export const sessionTtlSeconds = 12 * 60 * 60;

/** A cookie's value from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * The `Set-Cookie` value of a session (`value` null: its removal). `HttpOnly`: no script reads it;
 * `SameSite=Strict`: no other site's page makes the browser send it.
 */
export function sessionCookieHeader(value: string | null, secure: boolean): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${value === null ? 0 : sessionTtlSeconds}`, ...(secure ? ['Secure'] : [])];
  return [`${sessionCookie}=${value ?? ''}`, ...attributes].join('; ');
}
