import { browserTokenTtl, InvalidFieldsError, type BrowserTokenView, type TokenScope } from '@conveyor/contracts/core';
import type { Caller } from './caller.js';
import type { TokenSigner } from './signed-tokens.js';

/**
 * A read-only token for a browser, in the caller's tenant, made from the caller's key (revoking the
 * key ends it): what a backend hands to its end users' pages.
 */
export async function issueBrowserToken(signer: TokenSigner, caller: Caller, request: { scope: TokenScope; ttlSeconds?: number }): Promise<BrowserTokenView> {
  const { executions, tags, schedules, tenant } = request.scope;
  // Only what was asked for: an empty list would read as "all" to nobody, and as noise to everybody.
  const scope: TokenScope = { ...(executions?.length && { executions }), ...(tags?.length && { tags }), ...(schedules?.length && { schedules }), ...(tenant && { tenant }) };
  if (Object.keys(scope).length === 0) throw new InvalidFieldsError([{ path: 'scope', message: 'must name executions, tags, schedules, or tenant: true' }]);
  const { token, expiresAt } = await signer.sign(
    'browser',
    { keyId: caller.principal.keyId, tenant: caller.writeTenant, scope },
    request.ttlSeconds ?? browserTokenTtl.defaultSeconds,
  );
  return { token, expiresAt: expiresAt.toISOString(), scope };
}
