import { sessionRequestHeader, type DashboardSessionView } from '@conveyor/contracts/core';

/** Renew the socket's token this long before it expires. */
const renewAheadMs = 60_000;

/** The page's session, or `null` when the gateway wants a login (auth is on and there is no valid cookie). */
export async function readSession(): Promise<DashboardSessionView | null> {
  const response = await fetch('/ui/session');
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`GET /ui/session answered ${response.status}`);
  return (await response.json()) as DashboardSessionView;
}

/** A `getToken` for the socket: the session's token, renewed from `/ui/session` as it nears expiry. */
export function sessionTokens(first: DashboardSessionView): () => Promise<string> {
  let current = first;
  return async () => {
    if (Date.parse(current.expiresAt) - Date.now() < renewAheadMs) {
      const renewed = await readSession();
      // The session ended (logged out elsewhere, key revoked): back to the login page.
      if (!renewed) location.reload();
      else current = renewed;
    }
    return current.token;
  };
}

/** Logs in with a key (and, for an admin, the tenant to show); the answer sets the session cookie. */
export async function logIn(key: string, tenant: string): Promise<string | null> {
  const response = await fetch('/ui/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', [sessionRequestHeader]: '1' },
    body: JSON.stringify({ key, ...(tenant ? { tenant } : {}) }),
  });
  if (response.ok) return null;
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  return body.message ?? `The gateway answered ${response.status}.`;
}

export async function logOut(): Promise<void> {
  await fetch('/ui/logout', { method: 'POST', headers: { [sessionRequestHeader]: '1' } });
  location.reload();
}
