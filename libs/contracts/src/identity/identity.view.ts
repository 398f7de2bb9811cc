/**
 * What a credential may do: `admin` everything (any tenant's work, queue operations, keys, limits),
 * `tenant` its own tenant's work, `read` its own tenant's work, read only.
 */
export const roles = ['admin', 'tenant', 'read'] as const;
export type Role = (typeof roles)[number];

/** A managed API key as the API shows it; the key itself only in the answer that created it. */
export interface ApiKeyView {
  id: string;
  /** `null` for admin keys, which act for every tenant. */
  tenant: string | null;
  name: string;
  role: Role;
  createdAt: string;
}

/** What a browser token may read: some executions, tags, schedules, or the whole tenant. */
export interface TokenScope {
  executions?: string[];
  tags?: string[];
  schedules?: string[];
  tenant?: true;
}

export interface BrowserTokenView {
  token: string;
  expiresAt: string;
  scope: TokenScope;
}

/** Browser tokens live at most a day, a quarter of an hour unless asked otherwise. */
export const browserTokenTtl = { defaultSeconds: 900, maxSeconds: 86_400 } as const;

/** `GET /ui/session`: who the dashboard acts for, and a browser token for its socket (renewed before `expiresAt`). */
export interface DashboardSessionView {
  role: Role;
  tenant: string;
  token: string;
  expiresAt: string;
}

/** Sent with every request made with the dashboard's session cookie: another site's page cannot add it without a CORS preflight. */
export const sessionRequestHeader = 'x-conveyor-request';
