import { randomBytes } from 'node:crypto';

/** The credentials of a stack with auth on, and the environment that sets them. */
export interface StackCredentials {
  /** `CONVEYOR_ADMIN_KEY`. */
  admin: string;
  /** The bootstrap key of each tenant (`CONVEYOR_API_KEYS`). */
  tenants: Record<string, string>;
  /** For `Stack.start({ env })`, or a service started on its own. */
  env: Record<string, string>;
}

const secret = (label: string) => `${label}-${randomBytes(24).toString('hex')}`;

/** Fresh random keys: an admin key, a bootstrap key per tenant, and the secret that signs browser tokens. */
export function stackCredentials(tenants: readonly string[]): StackCredentials {
  const admin = secret('admin');
  const keys = Object.fromEntries(tenants.map((tenant) => [tenant, secret(tenant)]));
  return {
    admin,
    tenants: keys,
    env: {
      CONVEYOR_ADMIN_KEY: admin,
      CONVEYOR_API_KEYS: Object.entries(keys).map(([tenant, key]) => `${tenant}:${key}`).join(','),
      CONVEYOR_TOKEN_SECRET: secret('signing'),
    },
  };
}
