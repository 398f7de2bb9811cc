import { defaultTenant, ForbiddenError, TenantRequiredError, type Role, type TokenScope } from '@conveyor/contracts/core';

/** An API key's holder. `tenant` is the key's tenant; an admin key has none and acts for every tenant. */
export interface KeyPrincipal {
  kind: 'key';
  keyId: string;
  role: Role;
  tenant: string | null;
}

/** A browser token's holder: reads within its scope, in its tenant, until it expires. */
export interface TokenPrincipal {
  kind: 'token';
  keyId: string;
  tenant: string;
  scope: TokenScope;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Who a request or a socket acts for. */
export type Principal = KeyPrincipal | TokenPrincipal;

/** With auth off (no keys, loopback only) every caller is the admin of the default tenant. */
export const openAccess: KeyPrincipal = Object.freeze({ kind: 'key', keyId: 'open', role: 'admin', tenant: defaultTenant });

/** What an action needs: to read a tenant's work, to change it, or to operate the platform. */
export type Need = 'read' | 'write' | 'admin';

const needsOfRole: Record<Role, readonly Need[]> = { admin: ['read', 'write', 'admin'], tenant: ['read', 'write'], read: ['read'] };

/** Refuses (`403`) a principal whose role does not allow `need`; tokens only ever read. */
export function authorize(principal: Principal, need: Need): void {
  const allowed = principal.kind === 'token' ? need === 'read' : needsOfRole[principal.role].includes(need);
  if (!allowed) throw new ForbiddenError(`This ${principal.kind === 'token' ? 'browser token' : `${principal.role} key`} may not ${describeNeed[need]}.`);
}

const describeNeed: Record<Need, string> = { read: 'read this', write: 'change work', admin: 'do platform operations (admin only)' };

/**
 * The tenant a change acts in: the principal's own; an admin names one with `?tenant=` (a change
 * without it is `400 tenant_required`, so nothing lands in a tenant by accident).
 */
export function writeTenant(principal: Principal, requested: string | undefined): string {
  const tenant = readTenant(principal, requested);
  if (tenant === null) throw new TenantRequiredError();
  return tenant;
}

/** The tenant reads are limited to: the principal's own, or for an admin the one named (`null`: every tenant). */
export function readTenant(principal: Principal, requested: string | undefined): string | null {
  if (isAdmin(principal)) return requested ?? principal.tenant;
  if (requested !== undefined && requested !== principal.tenant) throw new ForbiddenError('Only an admin key may name another tenant.');
  return principal.tenant;
}

/** Whether the principal may see a tenant's work at all (an admin every tenant's). */
export function seesTenant(principal: Principal, tenant: string): boolean {
  return isAdmin(principal) || principal.tenant === tenant;
}

export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'key' && principal.role === 'admin';
}

/** What a scope check needs to know of an execution or a schedule. */
export type ScopedSubject = { execution: string; tenant: string; tags: readonly string[]; scheduleId: string | null } | { schedule: string; tenant: string };

/**
 * Whether the principal may read the subject: keys see their tenant's work; a token sees an execution
 * it names, one carrying a tag it names, or one of a schedule it names, and the schedules it names.
 */
export function sees(principal: Principal, subject: ScopedSubject): boolean {
  if (!seesTenant(principal, subject.tenant)) return false;
  if (principal.kind === 'key') return true;
  const { scope } = principal;
  if (scope.tenant) return true;
  if ('schedule' in subject) return scope.schedules?.includes(subject.schedule) ?? false;
  return (
    (scope.executions?.includes(subject.execution) ?? false) ||
    (scope.tags?.some((tag) => subject.tags.includes(tag)) ?? false) ||
    (subject.scheduleId !== null && (scope.schedules?.includes(subject.scheduleId) ?? false))
  );
}

/** Whether the principal may follow a whole queue or tenant room (keys, and tokens scoped to their tenant). */
export function seesRooms(principal: Principal): boolean {
  return principal.kind === 'key' || principal.scope.tenant === true;
}
