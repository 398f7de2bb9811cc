import type { TenantFilter } from '@conveyor/contracts/core';
import { isAdmin, readTenant, sees, writeTenant, type Principal, type ScopedSubject } from './principal.js';

/** A request's principal with the tenant it names (`?tenant=`, an admin's choice): what handlers ask. */
export class Caller {
  constructor(
    readonly principal: Principal,
    private readonly requestedTenant: string | undefined,
  ) {}

  /** The tenant new work goes to (`400 tenant_required` for an admin who names none). */
  get writeTenant(): string {
    return writeTenant(this.principal, this.requestedTenant);
  }

  /** The tenant whose work reads and actions on ids cover (`null`: every tenant's, for an admin). */
  get tenant(): TenantFilter {
    return readTenant(this.principal, this.requestedTenant);
  }

  /** Whether the caller operates the platform (an admin key, or anyone while auth is off). */
  get isAdmin(): boolean {
    return isAdmin(this.principal);
  }

  sees(subject: ScopedSubject): boolean {
    return sees(this.principal, subject);
  }
}
