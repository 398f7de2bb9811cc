import { randomBytes } from 'node:crypto';
import type { AuthConfig } from '@conveyor/config';
import { isId, type ApiKeyView } from '@conveyor/contracts/core';
import { hashKey, type ApiKeyStore } from './api-keys.js';
import { FreshCache } from '@conveyor/redis';
import { openAccess, type KeyPrincipal, type Principal } from './principal.js';
import { looksSigned, TokenSigner } from './signed-tokens.js';

/**
 * How long a key's lookup is trusted: keys are checked on every request without a Redis round trip
 * each, and a revoked key still stops working everywhere within a second.
 */
export const keyFreshnessMs = 500;

/** Turns credentials (API keys, browser tokens, session cookies) into principals, on every service alike. */
export class Authenticator {
  /** The environment's keys, by hash and by id; they live as long as the environment says. */
  private readonly bootstrapByHash = new Map<string, KeyPrincipal>();
  private readonly bootstrapById = new Map<string, KeyPrincipal>();
  private readonly managed = new FreshCache<ApiKeyView | null>(keyFreshnessMs);
  /** Signs and checks browser tokens and sessions; while auth is off, with a secret of this process's own (nobody checks them then). */
  readonly signer: TokenSigner;

  constructor(
    private readonly config: AuthConfig | null,
    private readonly store: ApiKeyStore,
  ) {
    this.signer = new TokenSigner(config?.tokenSecret ?? randomBytes(32).toString('hex'));
    const bootstrap = [...(config?.adminKey ? [{ key: config.adminKey, role: 'admin' as const, tenant: null }] : []), ...(config?.tenantKeys ?? []).map((k) => ({ ...k, role: 'tenant' as const }))];
    for (const { key, role, tenant } of bootstrap) {
      const hash = hashKey(key);
      // Named by its hash, so that a token made from a key replaced in the environment ends with it.
      const principal: KeyPrincipal = { kind: 'key', keyId: `env_${hash.slice(0, 24)}`, role, tenant };
      this.bootstrapByHash.set(hash, principal);
      this.bootstrapById.set(principal.keyId, principal);
    }
  }

  /** Whether callers must prove who they are (keys are set). */
  get enabled(): boolean {
    return this.config !== null;
  }

  /** The principal of an API key or a browser token; `null` when missing, unknown, revoked or expired. */
  async authenticate(credential: string | undefined): Promise<Principal | null> {
    if (!this.enabled) return openAccess;
    if (!credential) return null;
    if (looksSigned(credential)) {
      const claims = await this.signer.verify('browser', credential);
      if (!claims || !(await this.keyById(claims.keyId))) return null;
      return { kind: 'token', keyId: claims.keyId, tenant: claims.tenant, scope: claims.scope, expiresAt: claims.expiresAt };
    }
    const hash = hashKey(credential);
    return this.bootstrapByHash.get(hash) ?? keyPrincipal(await this.managed.get(`hash:${hash}`, () => this.store.byHash(hash)));
  }

  /** The principal of a dashboard session cookie: its key's, in the tenant an admin picked. */
  async session(cookie: string | undefined): Promise<(KeyPrincipal & { expiresAt: number }) | null> {
    if (!this.enabled) return { ...openAccess, expiresAt: Number.POSITIVE_INFINITY };
    if (!cookie) return null;
    const claims = await this.signer.verify('session', cookie);
    const key = claims && (await this.keyById(claims.keyId));
    if (!claims || !key) return null;
    return { ...key, tenant: key.role === 'admin' ? claims.tenant : key.tenant, expiresAt: claims.expiresAt };
  }

  /** A key by its id, while it exists: tokens and sessions end with the key that made them. */
  async keyById(keyId: string): Promise<KeyPrincipal | null> {
    const bootstrap = this.bootstrapById.get(keyId);
    if (bootstrap) return bootstrap;
    if (!isId('apiKey', keyId)) return null;
    return keyPrincipal(await this.managed.get(`id:${keyId}`, () => this.store.byId(keyId)));
  }
}

function keyPrincipal(key: ApiKeyView | null): KeyPrincipal | null {
  return key && { kind: 'key', keyId: key.id, role: key.role, tenant: key.tenant };
}
