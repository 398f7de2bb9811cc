import { createHash } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { TokenScope } from '@conveyor/contracts/core';

/** What each kind of signed token carries; every one names the key that made it, so revoking the key ends it. */
export interface TokenClaims {
  /** A read-only token for a browser (the monitor's handshake, REST `GET`s). */
  browser: { keyId: string; tenant: string; scope: TokenScope };
  /** The dashboard's session cookie; `tenant` is the one an admin picked. */
  session: { keyId: string; tenant: string | null };
}
export type TokenUse = keyof TokenClaims;

const issuer = 'conveyor';

/**
 * Signs and checks Conveyor's short-lived tokens (HS256 with `CONVEYOR_TOKEN_SECRET`). The audience
 * says what a token is for, so a session cookie is never taken for a browser token or the reverse.
 */
export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    // Hashed, so that a secret of any length makes a full-size HMAC key.
    this.key = createHash('sha256').update(secret).digest();
  }

  async sign<U extends TokenUse>(use: U, claims: TokenClaims[U], ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + ttlSeconds) * 1000);
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(use)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The claims of a valid, unexpired token of this use, else `null`. */
  async verify<U extends TokenUse>(use: U, token: string): Promise<(TokenClaims[U] & { expiresAt: number }) | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer, audience: use, algorithms: ['HS256'] });
      return { ...(payload as unknown as TokenClaims[U]), expiresAt: (payload.exp ?? 0) * 1000 };
    } catch {
      return null;
    }
  }
}

/** Signed tokens have three dot-separated parts; API keys have none. */
export function looksSigned(credential: string): boolean {
  return credential.split('.').length === 3;
}
