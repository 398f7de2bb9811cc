import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { NotFoundError, TenantLimitsDto, type TenantLimits, type TenantView } from '@conveyor/contracts';
import { seesTenant, type Caller } from '@conveyor/identity';
import { Access, ApiRoute, CallerOf } from '@conveyor/service';
import { TenantLimitsStore, TenantQuota } from '@conveyor/tenants';
import { parseRequest } from '../http/parse-request.js';
import { tenantName } from '../http/request-guards.js';

/** Tenants' limits (set by an admin) and usage (read by the tenant too). */
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly limits: TenantLimitsStore,
    private readonly quota: TenantQuota,
  ) {}

  /** Another tenant's name reads as unknown (`404`), as another tenant's ids do. */
  @Get(':tenant')
  @Access('read')
  @ApiRoute({ summary: "A tenant's limits and usage", answers: { 200: 'TenantView' } })
  async get(@CallerOf() caller: Caller, @Param('tenant', tenantName) tenant: string): Promise<TenantView> {
    if (!seesTenant(caller.principal, tenant)) throw new NotFoundError(`Tenant ${tenant}`);
    return this.view(tenant, await this.limits.get(tenant));
  }

  /** A number sets a limit, `null` clears it, an absent one stays; it applies everywhere within a second. */
  @Put(':tenant/limits')
  @Access('admin')
  @ApiRoute({ summary: "Set or clear a tenant's limits", body: 'TenantLimitsDto', answers: { 200: 'TenantView' } })
  async setLimits(@Param('tenant', tenantName) tenant: string, @Body() body: unknown): Promise<TenantView> {
    return this.view(tenant, await this.limits.update(tenant, parseRequest(TenantLimitsDto, body)));
  }

  private async view(tenant: string, limits: TenantLimits): Promise<TenantView> {
    return { tenant, limits, usage: await this.quota.usage(tenant) };
  }
}
